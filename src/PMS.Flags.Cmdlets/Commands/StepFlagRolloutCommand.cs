using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>For schedulers and CI: does at most one thing and says which. Safe to run again and again, and from two agents at once.</summary>
[Cmdlet(VerbsCommon.Step, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(RolloutStepResult))]
public sealed class StepFlagRolloutCommand : RolloutCommandBase
{
    protected override void ProcessFlagRecord()
    {
        var environment = EnvironmentForFlagSet();
        var target = DescribeTarget(environment);
        if (!ShouldProcess(target, "Evaluate guardrails and advance, pause, roll back or wait"))
        {
            return;
        }

        var user = Engine.Common.UserIdentity.Resolve(User);
        var result = WithEngine(async (engine, _, ct) =>
        {
            var id = await ResolveRolloutIdAsync(engine, ParameterSetName, RolloutId, Flag, environment, ct).ConfigureAwait(false);
            return await engine.StepAsync(id, user, ct).ConfigureAwait(false);
        });
        var reportFailure = ReportStep(result);
        WriteObject(result);
        if (reportFailure is not null)
        {
            WriteWarning(reportFailure);
        }
    }
}
