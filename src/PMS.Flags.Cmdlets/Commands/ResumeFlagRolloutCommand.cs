using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Resume, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RolloutState))]
public sealed class ResumeFlagRolloutCommand : RolloutCommandBase
{
    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    protected override void ProcessFlagRecord()
        => ChangeRolloutState("Resume the rollout with the bake time it had left", Reason, ApprovalTicket, (engine, id, actor, ct) => engine.ResumeAsync(id, actor, ct));
}
