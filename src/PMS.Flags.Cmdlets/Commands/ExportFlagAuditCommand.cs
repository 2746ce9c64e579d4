using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsData.Export, "FlagAudit", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportFlagAuditCommand : FlagCmdletBase
{
    // List<object>, not List<AuditEvent>: a field of a generic type over an engine type makes PowerShell's assembly
    // scan load the engine before the module initializer has set up the private load context.
    private readonly List<object> events = new();

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public AuditEvent[] InputObject { get; set; } = Array.Empty<AuditEvent>();

    // A string, not the engine's AuditExportFormat enum: a field of an engine value type would load the engine
    // during PowerShell's assembly scan, before the private load context exists.
    [Parameter(Mandatory = true)]
    [ValidateSet("Json", "Csv")]
    public string Format { get; set; } = "Json";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord() => events.AddRange(InputObject);

    protected override void EndFlagProcessing()
    {
        var path = ResolvePath(Path);
        if (File.Exists(path) && !Force)
        {
            throw new FlagsException("ExportFileExists", FlagsErrorKind.InvalidOperation, $"'{path}' already exists; pass -Force to replace it.", path);
        }

        if (!ShouldProcess(path, $"Export {events.Count} audit event(s) as {Format}"))
        {
            return;
        }

        AuditExporter.Write(events.Cast<AuditEvent>().ToArray(), Enum.Parse<AuditExportFormat>(Format, ignoreCase: true), path);
        WriteVerbose($"Exported {events.Count} audit event(s) to '{path}'.");
        // Through the provider, as Get-Item would: a bare FileInfo lacks the provider's members, so its default view
        // printed an empty Mode, User and Size.
        WriteObject(SessionState.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true), enumerateCollection: true);
    }
}
