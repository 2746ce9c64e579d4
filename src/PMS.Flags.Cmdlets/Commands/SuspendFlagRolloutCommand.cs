using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Suspend, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RolloutState))]
public sealed class SuspendFlagRolloutCommand : RolloutCommandBase
{
    private protected override LedgerUse LedgerUse => LedgerUse.SwitchOff;

    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    protected override void ProcessFlagRecord()
        => ChangeRolloutState("Pause the rollout, keeping its remaining bake time", Reason, ApprovalTicket, (engine, id, actor, ct) => engine.SuspendAsync(id, actor, ct));
}
