using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Aborts a rollout: the flag goes back off through the emergency-rollback path, and the abort is recorded.</summary>
[Cmdlet(VerbsLifecycle.Stop, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RolloutStepResult))]
public sealed class StopFlagRolloutCommand : RolloutCommandBase
{
    private protected override LedgerUse LedgerUse => LedgerUse.SwitchOff;

    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public Engine.Notifications.NotificationChannel[]? Notify { get; set; }

    protected override void ProcessFlagRecord()
    {
        var id = ResolveRollout(out var target);
        if (!ShouldProcessUnlessForced(Force, target, "Abort the rollout and switch the flag off"))
        {
            return;
        }

        var actor = Actor(Reason, ApprovalTicket);
        var result = WithEngine((engine, _, ct) => engine.StopAsync(id, actor, ct));
        var reportFailure = ReportStep(result);
        WriteObject(result);
        if (reportFailure is not null)
        {
            WriteWarning(reportFailure);
        }

        NotifyAfter(Notify, ResolveLedger(Ledger), User, (notifier, ct) => notifier.SteppedAsync(result, ct));
    }
}
