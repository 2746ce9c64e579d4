using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Suspend, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RolloutState))]
public sealed class SuspendFlagRolloutCommand : RolloutCommandBase
{
    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    protected override void ProcessFlagRecord()
    {
        var environment = EnvironmentForFlagSet();
        var target = ParameterSetName == ByIdSet ? $"rollout {RolloutId}" : $"active rollout of {Flag} in {environment}";
        if (!ShouldProcess(target, "Pause the rollout, keeping its remaining bake time"))
        {
            return;
        }

        var actor = Actor(Reason, ApprovalTicket);
        var state = WithEngine(async (engine, _, ct) =>
        {
            var id = await ResolveRolloutIdAsync(engine, ParameterSetName, RolloutId, Flag, environment, ct).ConfigureAwait(false);
            return await engine.SuspendAsync(id, actor, ct).ConfigureAwait(false);
        });
        WriteObject(state);
    }
}
