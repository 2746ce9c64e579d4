using System.Diagnostics;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollbacks;

/// <summary>
/// The playbook's emergency rollback: the flag goes off FIRST, with no read and no ledger check in front of it;
/// then the change is recorded (or spooled) and the store is read back to verify.
/// </summary>
public sealed class EmergencyRollback
{
    public const string EventType = "emergency_rollback";
    private readonly IFlagStore store;
    private readonly AuditTrail audit;
    private readonly FlagOperations operations;
    private readonly IEmergencyRollbackListener? listener;

    /// <param name="listener">
    /// Told once the flag is off and recorded; the cmdlet passes the rollout engine's listener so that a rollback of a
    /// flag under rollout ends that rollout. The rollout engine itself passes none: it records its own ending.
    /// </param>
    public EmergencyRollback(IFlagStore store, AuditTrail audit, IEmergencyRollbackListener? listener = null)
    {
        this.store = store;
        this.audit = audit;
        this.listener = listener;
        operations = new FlagOperations(store, audit);
    }

    public async Task<RollbackResult> RunAsync(FlagMutation request, CancellationToken cancellationToken)
    {
        var mutation = new FlagMutation
        {
            Flag = request.Flag,
            Environment = request.Environment,
            Kind = FlagChangeKind.TurnOff,
            Reason = request.Reason,
            ApprovalTicket = request.ApprovalTicket,
            User = request.User,
            RolloutId = request.RolloutId,
        };
        FlagOperations.Validate(store, mutation);
        var steps = new List<RollbackStep>();
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();

        audit.Log.Verbose($"Emergency rollback: switching '{mutation.Flag}' off in '{mutation.Environment}' through {store.Name} before anything else.");
        FlagChangeResult off;
        FlagsException? uncertain = null;
        try
        {
            off = await store.ApplyAsync(mutation.ToChange(), cancellationToken).ConfigureAwait(false);
        }
        catch (FlagsException ex) when (ex.ChangeWasMade || ex.ChangeMayHaveBeenMade)
        {
            // The store says the flag-off was (or may have been) made although the call failed: record that first, then
            // let the read-back below say whether the flag is off. Never report "failed" for a flag that is off.
            uncertain = ex;
            off = new FlagChangeResult(null, new FlagState(mutation.Flag, mutation.Environment, false, 0m, store.Name), true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            steps.Add(new RollbackStep("FlagOff", "Failed", startedAt, clock.Elapsed, ex.Message));
            await RecordFailureAsync(mutation, steps, ex).ConfigureAwait(false);
            throw;
        }

        var flagOffAt = DateTimeOffset.UtcNow;
        steps.Add(new RollbackStep("FlagOff", uncertain is null ? "Succeeded" : "Unconfirmed", startedAt, flagOffAt - startedAt, uncertain is null ? (off.Changed ? "switched off" : "was already off") : $"the store failed but says the change {(uncertain.ChangeWasMade ? "was" : "may have been")} made: {uncertain.Message}"));

        // From here the flag is (or is being verified) off: nothing below may throw, or a caller would report "not off".
        var auditStart = DateTimeOffset.UtcNow;
        AuditRecord? toggled = null;
        var recorded = true;
        try
        {
            if (uncertain is not null)
            {
                var reported = await operations.RecordUncertainAsync(mutation, uncertain, new JObject { ["procedure"] = EventType }).ConfigureAwait(false);
                steps.Add(new RollbackStep("Audit", "Succeeded", auditStart, DateTimeOffset.UtcNow - auditStart, reported.Message));
            }
            else
            {
                toggled = await audit.RecordAsync(operations.ToggledEvent(mutation, off, new JObject { ["procedure"] = EventType }), CancellationToken.None).ConfigureAwait(false);
                steps.Add(new RollbackStep("Audit", toggled.Spooled ? "Spooled" : "Succeeded", auditStart, DateTimeOffset.UtcNow - auditStart, toggled.Spooled ? $"spooled to {toggled.SpoolPath}" : $"ledger #{toggled.Sequence}"));
            }
        }
        catch (Exception ex)
        {
            recorded = false;
            steps.Add(new RollbackStep("Audit", "Failed", auditStart, DateTimeOffset.UtcNow - auditStart, ex.Message));
            audit.Log.Warning($"The flag is off, but its audit record failed: {ex.Message}");
        }

        var verifyStart = DateTimeOffset.UtcNow;
        var verified = false;
        try
        {
            var now = (await store.GetFlagsAsync(mutation.Environment, mutation.Flag, cancellationToken).ConfigureAwait(false))[0];
            verified = !now.On;
            steps.Add(new RollbackStep("Verify", verified ? "Succeeded" : "Failed", verifyStart, DateTimeOffset.UtcNow - verifyStart, verified ? "store reports the flag off" : $"store reports the flag ON at {now.Percentage}%"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            steps.Add(new RollbackStep("Verify", "Failed", verifyStart, DateTimeOffset.UtcNow - verifyStart, ex.Message));
        }

        // A store whose changes reach users later (a ConfigMap read by pods at start) restarts at once: the flag is
        // off for users only when the restarted pods are ready, and that is what the SLA is judged on.
        DateTimeOffset? restartedAt = null, podsReadyAt = null;
        var awaitsPropagation = store.PropagatesLater && off.Changed;
        if (awaitsPropagation)
        {
            restartedAt = DateTimeOffset.UtcNow;
            try
            {
                podsReadyAt = await store.WaitForPropagationAsync(off, cancellationToken).ConfigureAwait(false);
                steps.Add(new RollbackStep("Propagate", "Succeeded", restartedAt.Value, podsReadyAt.Value - restartedAt.Value, "restarted; the new pods serve the flag off"));
            }
            catch (FlagsException ex)
            {
                steps.Add(new RollbackStep("Propagate", "Failed", restartedAt.Value, DateTimeOffset.UtcNow - restartedAt.Value, ex.Message));
                audit.Log.Warning($"The flag is off in {store.Name}, but the pods do not serve it yet: {ex.Message}");
            }
        }

        if (uncertain is not null && !uncertain.ChangeWasMade && !verified)
        {
            // It may have been made, and the read-back does not show it off: as far as anyone can tell, it is not off.
            await RecordFailureAsync(mutation, steps, uncertain).ConfigureAwait(false);
            throw uncertain;
        }

        var completedAt = DateTimeOffset.UtcNow;
        var summary = new AuditEvent
        {
            EventType = EventType,
            UserId = mutation.User,
            FeatureFlag = mutation.Flag,
            PreviousState = off.Previous?.On,
            NewState = off.Current.On,
            Environment = mutation.Environment,
            Reason = mutation.Reason,
            RolloutPercentage = off.Current.EffectivePercentage,
            ApprovalTicket = mutation.ApprovalTicket,
            RolloutId = mutation.RolloutId,
            Store = store.Identity,
            PreviousPercentage = off.Previous?.EffectivePercentage,
            Outcome = verified ? "succeeded" : "unverified",
            Details = StepsJson(steps, startedAt, flagOffAt, completedAt).ToString(Newtonsoft.Json.Formatting.None),
        };
        AuditRecord? summaryRecord = null;
        try
        {
            summaryRecord = await audit.RecordAsync(summary, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            recorded = false;
            audit.Log.Warning($"The flag is off, but the rollback's summary could not be recorded: {ex.Message}");
        }

        RollbackResult Build(IReadOnlyList<string> endedRollouts) => new()
        {
            Flag = mutation.Flag,
            Environment = mutation.Environment,
            Store = store.Name,
            StartedAt = startedAt,
            FlagOffAt = flagOffAt,
            RestartedAt = restartedAt,
            PodsReadyAt = podsReadyAt,
            AwaitsPropagation = awaitsPropagation,
            CompletedAt = completedAt,
            Verified = verified,
            PreviousOn = off.Previous?.On,
            PreviousPercentage = off.Previous?.Percentage,
            AuditSequence = summaryRecord?.Sequence,
            AuditSpooled = (toggled?.Spooled ?? false) || (summaryRecord?.Spooled ?? false),
            FlagOff = true,
            Recorded = recorded,
            Steps = steps,
            EndedRollouts = endedRollouts,
        };

        var result = Build(Array.Empty<string>());
        if (listener is null)
        {
            return result;
        }

        // The flag is already off: whatever the listener does (or fails to do) cannot change that, so its failure is a
        // warning, and a Ctrl+C at this point must not leave a rollout that claims to be running on a flag that is off.
        try
        {
            return Build(await listener.FlagSwitchedOffAsync(mutation, result, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            audit.Log.Warning($"The flag is off, but ending the rollouts that depended on it failed: {ex.Message}");
            return result;
        }
    }

    private async Task RecordFailureAsync(FlagMutation mutation, List<RollbackStep> steps, Exception failure)
    {
        var now = DateTimeOffset.UtcNow;
        var details = StepsJson(steps, steps[0].StartedAt, null, now);
        details["error"] = failure.Message;
        try
        {
            await audit.RecordAsync(
                new AuditEvent
                {
                    EventType = EventType,
                    UserId = mutation.User,
                    FeatureFlag = mutation.Flag,
                    Environment = mutation.Environment,
                    Reason = mutation.Reason,
                    ApprovalTicket = mutation.ApprovalTicket,
                    RolloutId = mutation.RolloutId,
                    Store = store.Identity,
                    Outcome = "failed",
                    Details = details.ToString(Newtonsoft.Json.Formatting.None),
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception recordFailure)
        {
            audit.Log.Warning($"The failed rollback could not be recorded either: {recordFailure.Message}");
        }
    }

    private static JObject StepsJson(IEnumerable<RollbackStep> steps, DateTimeOffset startedAt, DateTimeOffset? flagOffAt, DateTimeOffset completedAt) => new()
    {
        ["started_at"] = startedAt.UtcDateTime.ToString("O"),
        ["flag_off_at"] = flagOffAt?.UtcDateTime.ToString("O"),
        ["completed_at"] = completedAt.UtcDateTime.ToString("O"),
        ["time_to_flag_off_ms"] = flagOffAt is null ? null : (long)(flagOffAt.Value - startedAt).TotalMilliseconds,
        ["steps"] = new JArray(steps.Select(s => new JObject
        {
            ["name"] = s.Name,
            ["status"] = s.Status,
            ["duration_ms"] = (long)s.Duration.TotalMilliseconds,
            ["message"] = s.Message,
        })),
    };
}
