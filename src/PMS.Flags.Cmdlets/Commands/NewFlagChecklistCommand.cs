using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.New, "FlagChecklist", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ReadinessReport))]
public sealed class NewFlagChecklistCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    /// <summary>Playbook (the default), or the path of a JSON template file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Template { get; set; } = ChecklistTemplate.PlaybookName;

    /// <summary>The rollout plan the approvals are for: @{ Stages = ...; BakeTime = ...; Guardrail = ... }, as splatted into Start-FlagRollout.</summary>
    [Parameter]
    public object? Plan { get; set; }

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var ledger = ResolveLedger(Ledger);
        var environment = ResolveEnvironment(Environment, store);
        var template = ChecklistTemplate.Resolve(string.Equals(Template, ChecklistTemplate.PlaybookName, StringComparison.OrdinalIgnoreCase) ? Template : ResolvePath(Template));
        var plan = RolloutPlanArgument.ToFingerprint(Plan, Flag);
        var target = $"{Flag} in {environment}";
        if (!ShouldProcess(target, $"Create the {template.Name} checklist ({template.Items.Count} items){(plan is null ? "" : $" for the plan {plan}")}"))
        {
            return;
        }

        var user = UserIdentity.Resolve(User);
        WriteObject(Run((log, ct) => new ChecklistService(store, AuditTrailFor(ledger, log.Engine)).CreateAsync(Flag, environment, template, plan, user, Reason, ct)));
    }
}
