using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlagGuardrail")]
[OutputType(typeof(GuardrailResult))]
public sealed class TestFlagGuardrailCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public GuardrailDefinition[] Guardrail { get; set; } = Array.Empty<GuardrailDefinition>();

    protected override void ProcessFlagRecord()
    {
        foreach (var definition in Guardrail)
        {
            WriteVerbose($"Evaluating {definition}.");
            var result = Run(async (_, ct) =>
            {
                using var factory = new GuardrailFactory();
                return await factory.Create(definition).EvaluateAsync(ct).ConfigureAwait(false);
            });
            WriteObject(result);
        }
    }
}
