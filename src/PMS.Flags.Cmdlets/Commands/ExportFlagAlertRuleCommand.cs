using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsData.Export, "FlagAlertRule", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportFlagAlertRuleCommand : FlagCmdletBase
{
    // List<object>, not List<GuardrailDefinition>: a field of a generic type over an engine type makes PowerShell's
    // assembly scan load the engine before the module initializer has set up the private load context.
    private readonly List<object> guardrails = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public GuardrailDefinition[] Guardrail { get; set; } = Array.Empty<GuardrailDefinition>();

    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string GroupName { get; set; } = "feature-flag-rollout";

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord() => guardrails.AddRange(Guardrail);

    protected override void EndFlagProcessing()
    {
        var definitions = guardrails.Cast<GuardrailDefinition>().ToArray();

        // Rendered first, so a guardrail that cannot be a rule is refused before any file is touched.
        var text = AlertRuleFile.Render(definitions, GroupName);
        if (Path is null)
        {
            WriteObject(text);
            return;
        }

        var path = ResolvePath(Path);
        if (File.Exists(path) && !Force)
        {
            throw new FlagsException("ExportFileExists", FlagsErrorKind.InvalidOperation, $"'{path}' already exists; pass -Force to replace it.", path);
        }

        if (!ShouldProcess(path, $"Write {definitions.Length} alert rule(s) in group '{GroupName}'"))
        {
            return;
        }

        AlertRuleFile.Write(definitions, path, GroupName);
        WriteVerbose($"Wrote {definitions.Length} alert rule(s) ({string.Join(", ", definitions.Select(d => d.Name))}) to '{path}'.");
        WriteObject(SessionState.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true), enumerateCollection: true);
    }
}
