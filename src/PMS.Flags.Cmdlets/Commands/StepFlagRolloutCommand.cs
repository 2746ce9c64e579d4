using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>For schedulers and CI: does at most one thing and says which. Safe to run again and again, and from two agents at once.</summary>
[Cmdlet(VerbsCommon.Step, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(RolloutStepResult))]
public sealed class StepFlagRolloutCommand : RolloutCommandBase
{
    [Parameter]
    public Engine.Notifications.NotificationChannel[]? Notify { get; set; }

    protected override void ProcessFlagRecord()
    {
        var id = ResolveRollout(out var target);
        if (!ShouldProcess(target, "Evaluate guardrails and advance, pause, roll back or wait"))
        {
            return;
        }

        var user = Engine.Common.UserIdentity.Resolve(User);
        var result = WithEngine((engine, _, ct) => engine.StepAsync(id, user, ct));
        var reportFailure = ReportStep(result);
        WriteObject(result);
        if (reportFailure is not null)
        {
            WriteWarning(reportFailure);
        }

        NotifyAfter(Notify, ResolveLedger(Ledger), User, (notifier, ct) => notifier.SteppedAsync(result, ct));
    }
}
