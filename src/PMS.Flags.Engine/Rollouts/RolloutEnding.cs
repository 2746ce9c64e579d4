using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Ends rollouts: Stop, the rollback on a critical breach, the end after an emergency rollback, and the ender's half of
/// the race with an advancer. Lowering exposure never waits: the flag goes off first through
/// <see cref="EmergencyRollback"/> (no ledger read or write, no expected head, no cancellation in front of it), and the
/// end is recorded afterwards through the decision loop on the rollout's stream, spooled if the ledger cannot take it.
/// When a Stop and a breach rollback race, the second folds the first's end and writes no second one.
/// </summary>
internal sealed class RolloutEnding
{
    private readonly RolloutContext context;

    public RolloutEnding(RolloutContext context) => this.context = context;

    private RolloutReader Reader => context.Reader;

    private RolloutEvents Events => context.Events;

    /// <summary>
    /// Aborts: the flag goes off first through the emergency-rollback path, then the rollout is recorded as
    /// rolled back with outcome "aborted" (status Aborted).
    /// </summary>
    public async Task<RolloutStepResult> StopAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
    {
        RolloutRefusals.RequireReason(actor, rolloutId);

        // The fold includes the spool: a rollout whose end is only spooled is refused as not active.
        var state = await Reader.LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);
        Reader.EnsureSameStore(state);
        RolloutRefusals.RequireActive(state);
        var mutation = RolloutMutations.TurnOff(state.Plan, actor.User, $"Rollout {rolloutId} stopped: {actor.Reason}", actor.ApprovalTicket ?? state.Plan.ApprovalTicket);

        // Once asked, the flag goes off even if the caller is cancelled meanwhile: a half-stopped rollout is the worst outcome.
        var rollback = await new EmergencyRollback(context.Store, context.Audit).RunAsync(mutation, CancellationToken.None).ConfigureAwait(false);
        await RecordEndAsync(rolloutId, ended => new[] { Events.Stopped(ended, actor, mutation.ApprovalTicket, rollback) }).ConfigureAwait(false);

        var after = await EnsureOffAfterEndAsync(rolloutId, actor.User).ConfigureAwait(false);
        return context.Results.Of(after, RolloutStepAction.RolledBack, $"Stopped by {actor.User}: {actor.Reason}. The flag is off (in {rollback.TimeToFlagOff?.TotalMilliseconds:0} ms).", rollback: rollback, previousPercentage: state.Percentage);
    }

    /// <summary>A critical breach during a step: flag off first, then the evidence and the end as one unit.</summary>
    public async Task<RolloutStepResult> RollBackOnBreachAsync(RolloutState state, IReadOnlyList<GuardrailResult> tracked, RolloutDecision decision, string user, DateTimeOffset detectedAt)
    {
        var mutation = RolloutMutations.TurnOff(state.Plan, user, $"Automatic rollback of rollout {state.RolloutId}: {decision.Reason}", state.Plan.ApprovalTicket);
        RollbackResult rollback;
        try
        {
            rollback = await new EmergencyRollback(context.Store, context.Audit).RunAsync(mutation, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // EmergencyRollback throws only when the flag is NOT off (it recorded that). Keep the evidence of why it was
            // tried, as one unit; the rollout stays running, so the next Step tries again while the breach lasts.
            context.Log.Warning($"Rollout {state.RolloutId}: the automatic rollback could not switch the flag off ({ex.Message}).");
            await context.Audit.RecordAsync(Events.Evidence(state, tracked, decision.Culprits, "rollback_failed", user, context.Time.GetUtcNow()).ToArray(), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var detectionToFlagOff = rollback.FlagOffAt is { } off ? off - detectedAt : (TimeSpan?)null;
        context.Log.Warning($"Rollout {state.RolloutId} rolled back: {decision.Reason}. Flag off {detectionToFlagOff?.TotalMilliseconds:0} ms after detection.");

        // The evidence and the end are one unit; the end is written only if no one (a Stop) ended the rollout first.
        var now = context.Time.GetUtcNow();
        await RecordEndAsync(state.RolloutId, ended =>
        {
            var events = Events.Evidence(ended, tracked, decision.Culprits, "rollback", user, now).ToList();
            if (ended.IsActive)
            {
                events.Add(Events.RolledBackOnBreach(ended, decision, tracked, rollback, user, detectedAt, detectionToFlagOff, now));
            }

            return events;
        }, endOnlyIfActive: false).ConfigureAwait(false);

        var after = await EnsureOffAfterEndAsync(state.RolloutId, user).ConfigureAwait(false);
        return context.Results.Of(after, RolloutStepAction.RolledBack, decision.Reason, tracked, rollback, detectionToFlagOff, state.Percentage);
    }

    /// <summary>Records every active rollout of the flag as rolled back after an emergency rollback switched it off.</summary>
    public async Task<IReadOnlyList<string>> EndAfterEmergencyRollbackAsync(FlagMutation request, RollbackResult rollback, CancellationToken cancellationToken)
    {
        var ended = new List<string>();
        foreach (var state in await Reader.ActiveAsync(request.Flag, request.Environment, cancellationToken).ConfigureAwait(false))
        {
            if (!Reader.IsThisStore(state))
            {
                context.Log.Verbose($"Rollout {state.RolloutId} runs on {state.Store}, not {context.Store.Identity}; the emergency rollback did not touch it.");
                continue;
            }

            await RecordEndAsync(state.RolloutId, folded => new[] { Events.EndedByEmergencyRollback(folded, request, rollback) }).ConfigureAwait(false);
            context.Log.Verbose($"Rollout {state.RolloutId} ended as rolled back by the emergency rollback.");
            ended.Add(state.RolloutId);
        }

        return ended;
    }

    /// <summary>After an advance: if the rollout ended meanwhile (a rollback raced it), the flag this step just raised goes off again.</summary>
    public async Task<RolloutState> GuardAfterApplyAsync(string rolloutId, string user)
    {
        var after = await Reader.LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        return after.Status is RolloutStatus.RolledBack or RolloutStatus.Aborted
            ? await EnsureOffAfterEndAsync(rolloutId, user).ConfigureAwait(false)
            : after;
    }

    /// <summary>
    /// Records a rollout's end after its flag was switched off, through the decision loop on the rollout's stream. The
    /// events are spooled if the ledger cannot take them: the flag is already off.
    /// </summary>
    private Task<bool> RecordEndAsync(string rolloutId, Func<RolloutState, IReadOnlyList<AuditEvent>> endEvents, bool endOnlyIfActive = true)
        => context.Decisions.RunAsync<RolloutState, bool>(
            LedgerStream.Rollout(rolloutId),
            Reader.Fold(rolloutId),
            state =>
            {
                var events = endOnlyIfActive && !state.IsActive ? Array.Empty<AuditEvent>() : endEvents(state);
                return Task.FromResult(events.Count == 0 ? StreamDecision<bool>.Done(false) : StreamDecision<bool>.Append(events, _ => Task.FromResult(true)));
            },
            afterChange: true,
            () => RolloutRefusals.LedgerBusy(rolloutId),
            CancellationToken.None);

    /// <summary>
    /// The ender's half of the race with an advancer: after the end is recorded, read the flag and switch it off only if
    /// it is on again (so no redundant write, and no event for a change that did not happen). Its failure is a warning:
    /// the rollout HAS ended and its flag went off.
    /// </summary>
    private async Task<RolloutState> EnsureOffAfterEndAsync(string rolloutId, string user)
    {
        var state = await Reader.LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        try
        {
            var current = (await context.Store.GetFlagsAsync(state.Environment, state.Flag, CancellationToken.None).ConfigureAwait(false))[0];
            if (!current.On)
            {
                return state;
            }

            var mutation = RolloutMutations.TurnOff(state.Plan, user, $"Rollout {rolloutId} has ended ({state.Status}); an advance that raced the end is undone.", state.Plan.ApprovalTicket);
            var result = await context.Store.ApplyAsync(mutation.ToChange(), CancellationToken.None).ConfigureAwait(false);
            context.Log.Warning($"Rollout {rolloutId}: an advance raced its end and switched the flag on again; it is off again.");
            await context.Audit.RecordAsync(context.Operations.ToggledEvent(mutation, result, new JObject { ["procedure"] = "rollout_end_reassert" }), CancellationToken.None).ConfigureAwait(false);
            return await Reader.LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.Log.Warning($"Rollout {rolloutId} has ended and its flag was switched off, but checking that no racing advance switched it on again failed ({ex.Message}); check the flag.");
            return state;
        }
    }
}
