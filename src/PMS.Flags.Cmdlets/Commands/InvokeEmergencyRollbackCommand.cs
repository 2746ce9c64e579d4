using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Invoke, "EmergencyRollback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RollbackResult))]
public sealed class InvokeEmergencyRollbackCommand : FlagChangeCommandBase
{
    [Parameter]
    public SwitchParameter Force { get; set; }

    // Channels told AFTER the flag is off; a failed or hanging one is a warning and an audit event, never a delay before.
    [Parameter]
    public Engine.Notifications.NotificationChannel[]? Notify { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var mutation = BuildMutation(store, FlagChangeKind.TurnOff);
        FlagOperations.Validate(store, mutation);
        var target = $"{mutation.Flag} in {mutation.Environment} ({store.Name})";
        var ledger = WhatIfRequested ? ResolveLedger(Ledger) : ResolveLedgerFor(Ledger, LedgerUse.SwitchOff, mutation.Environment, store.ProtectedEnvironments);
        if (WhatIfRequested)
        {
            var preview = Run((log, ct) => new FlagOperations(store, AuditTrailFor(ledger, log.Engine)).PreviewAsync(mutation, ct));
            ShouldProcess(target, $"Emergency rollback: switch the flag off (now {(preview.Previous?.On == true ? "on" : "off")}), record it, verify it");
            return;
        }

        if (!ShouldProcessUnlessForced(Force, target, "Emergency rollback: switch the flag off, record it, verify it"))
        {
            return;
        }

        // The rollout engine listens so that a rollout of this flag ends as rolled back instead of stepping on.
        var result = RunWithRollouts(store, ledger, (rollouts, log, ct)
            => new EmergencyRollback(store, AuditTrailFor(ledger, log.Engine), rollouts.EmergencyRollbackListener).RunAsync(mutation, ct));
        if (!result.Verified)
        {
            WriteWarning($"The flag was switched off but verification failed: {result.Steps.Last(s => s.Name == "Verify").Message}");
        }

        if (!result.Recorded)
        {
            WriteWarning($"The flag is OFF, but its audit record could not be written or spooled: {result.Steps.LastOrDefault(s => s.Name == "Audit")?.Message}");
        }

        WriteObject(result);
        NotifyAfter(Notify, ledger, User, (notifier, ct) => notifier.RolledBackAsync(result.Flag, result.Environment, null, ct));
    }
}
