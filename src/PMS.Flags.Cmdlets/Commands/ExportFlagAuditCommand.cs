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
    [ValidateSet("Json", "Csv", "Html")]
    public string Format { get; set; } = "Json";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Html only: the ledger whose chain and checkpoint verdict the report states (default: the session's).</summary>
    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>Html only: trusted public keys, so the report can say the checkpoint signature was verified.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeyPath { get; set; }

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

        var format = Enum.Parse<AuditExportFormat>(Format, ignoreCase: true);
        ChainVerification? verdict = null;
        if (format == AuditExportFormat.Html)
        {
            // The report states the verdict on the ledger as it is now; it is diagnostic, so a broken ledger is reported, not refused.
            var ledger = ResolveLedger(Ledger, verifyOnOpen: false);
            using var keys = PublicKeyPath is null ? null : Engine.Ledger.Checkpoints.CheckpointKeyRing.FromPemFiles(PublicKeyPath.Select(ResolvePath));
            var pending = new AuditSpool(StatePaths.SpoolDirectory()).Pending(ledger).Count;
            verdict = Run((_, ct) => Task.FromResult(ledger is JsonlLedger jsonl
                ? Engine.Ledger.Checkpoints.CheckpointVerifier.Verify(jsonl, jsonl.Checkpoints, keys, null, pending, ct)
                : ledger.Verify(ct).With(false, null, pending)));
        }

        AuditExporter.Write(events.Cast<AuditEvent>().ToArray(), format, path, verdict);
        WriteVerbose($"Exported {events.Count} audit event(s) to '{path}'.");
        // Through the provider, as Get-Item would: a bare FileInfo lacks the provider's members, so its default view
        // printed an empty Mode, User and Size.
        WriteObject(SessionState.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true), enumerateCollection: true);
    }
}
