using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// The shape of every rollout event: the one place that builds their drafts, so the fold in <see cref="RolloutState"/>
/// and the reports that read the ledger have a single writer to agree with. Builds drafts only; never appends.
/// </summary>
internal sealed class RolloutEvents
{
    private readonly IFlagStore store;
    private readonly TimeProvider time;

    public RolloutEvents(IFlagStore store, TimeProvider time)
    {
        this.store = store;
        this.time = time;
    }

    public AuditEvent Started(RolloutPlan plan, FlagState current, IReadOnlyList<GuardrailResult> baseline)
    {
        var details = new JObject
        {
            ["plan"] = plan.ToJson(),
            ["initial_state"] = new JObject { ["on"] = current.On, ["percentage"] = Percent(current.EffectivePercentage), ["version"] = current.Version },
            ["baseline"] = new JArray(baseline.Select(b => b.ToJson())),
            ["timeline"] = new JArray(plan.Preview().Stages.Select(s => new JObject { ["stage_number"] = s.Number, ["percentage"] = Percent(s.Percentage), ["earliest_start"] = GuardrailJson.Span(s.EarliestStart) })),
        };
        return Event(plan, RolloutEventTypes.Started, plan.User, plan.Reason, plan.ApprovalTicket, null, current.EffectivePercentage, "started", details);
    }

    public AuditEvent StageAdvanced(RolloutState state, int index, string user, string reason, IReadOnlyList<GuardrailResult> tracked, string trigger, DateTimeOffset now)
    {
        var details = StageDetails(state, index);
        details["previous_stage_index"] = state.StageIndex;
        details["bake_time"] = GuardrailJson.Span(state.BakeTime);
        details["trigger"] = trigger;
        details["guardrails"] = new JArray(tracked.Select(t => t.Evidence));
        return Event(state.Plan, RolloutEventTypes.StageAdvanced, user, reason, state.Plan.ApprovalTicket, state.Stages[index], state.Percentage ?? 0, "advanced", details, now);
    }

    public AuditEvent Evaluated(RolloutState state, GuardrailResult result, string user, DateTimeOffset now)
    {
        var details = result.ToJson();
        details["stage_index"] = state.StageIndex;
        details["stage_number"] = state.StageNumber;
        return Event(state.Plan, RolloutEventTypes.GuardrailEvaluated, user, result.Evidence, state.Plan.ApprovalTicket, state.Percentage, null, result.Status.ToString().ToLowerInvariant(), details, now);
    }

    public AuditEvent Breached(RolloutState state, GuardrailResult result, string action, string user, DateTimeOffset now)
    {
        var details = StageDetails(state, state.StageIndex);
        details["guardrail"] = result.Guardrail;
        details["severity"] = result.Severity.ToString();
        details["action"] = action;
        details["query"] = result.Query;
        details["expression"] = result.Expression;
        details["threshold"] = result.ThresholdText;
        details["value"] = result.Value is { } v ? GuardrailResult.Number(v) : null;
        details["series"] = new JArray(result.BreachingSeries.Select(s => $"{s.Key} = {s.RawValue}"));
        details["result"] = result.ToJson();
        return Event(state.Plan, RolloutEventTypes.GuardrailBreached, user, result.Evidence, state.Plan.ApprovalTicket, state.Percentage, null, action, details, now);
    }

    /// <summary>The guardrail evidence of a step: one guardrail_evaluated per result, then guardrail_breached per culprit with the action taken.</summary>
    public IEnumerable<AuditEvent> Evidence(RolloutState state, IReadOnlyList<GuardrailResult> tracked, IEnumerable<GuardrailResult> culprits, string action, string user, DateTimeOffset now)
        => tracked.Select(t => Evaluated(state, t, user, now)).Concat(culprits.Select(c => Breached(state, c, action, user, now)));

    /// <summary>The events that record a step's decision (advance, complete or pause); none for waiting.</summary>
    public IEnumerable<AuditEvent> Decision(RolloutState state, RolloutDecision decision, IReadOnlyList<GuardrailResult> tracked, string user, DateTimeOffset now)
    {
        switch (decision.Action)
        {
            case RolloutStepAction.Advanced:
                yield return StageAdvanced(state, state.StageIndex + 1, user, decision.Reason, tracked, "step", now);
                break;
            case RolloutStepAction.Completed:
                var completed = StageDetails(state, state.StageIndex);
                completed["duration"] = GuardrailJson.Span(now - state.StartedAt);
                completed["guardrails"] = new JArray(tracked.Select(t => t.Evidence));
                yield return Event(state.Plan, RolloutEventTypes.Completed, user, decision.Reason, state.Plan.ApprovalTicket, state.Percentage, null, "completed", completed, now);
                break;
            case RolloutStepAction.Paused:
                foreach (var culprit in decision.Culprits.Where(c => c.Status == GuardrailStatus.Breached || c.NoData == NoDataPolicy.Fail))
                {
                    yield return Breached(state, culprit, "pause", user, now);
                }

                var paused = StageDetails(state, state.StageIndex);
                paused["cause"] = decision.Cause;
                paused["remaining_bake"] = GuardrailJson.Span(state.RemainingBake(now));
                paused["guardrails"] = new JArray(tracked.Select(t => t.Evidence));
                yield return Event(state.Plan, RolloutEventTypes.Paused, user, decision.Reason, state.Plan.ApprovalTicket, state.Percentage, null, "paused", paused, now);
                break;
        }
    }

    public AuditEvent Suspended(RolloutState state, RolloutActor actor, DateTimeOffset now)
    {
        var details = StageDetails(state, state.StageIndex);
        details["cause"] = "manual";
        details["remaining_bake"] = GuardrailJson.Span(state.RemainingBake(now));
        return Event(state.Plan, RolloutEventTypes.Paused, actor.User, actor.Reason, actor.ApprovalTicket ?? state.Plan.ApprovalTicket, state.Percentage, null, "paused", details, now);
    }

    public AuditEvent Resumed(RolloutState state, RolloutActor actor, string? ticket, DateTimeOffset now)
    {
        var remaining = state.RemainingBake(now);
        var details = StageDetails(state, state.StageIndex);
        details["remaining_bake"] = GuardrailJson.Span(remaining);
        details["bake_due_at"] = state.StageApplied ? GuardrailJson.Time(now + remaining) : null;
        details["paused_at"] = state.PausedAt is { } pausedAt ? GuardrailJson.Time(pausedAt) : null;
        details["pause_cause"] = state.PauseCause;
        return Event(state.Plan, RolloutEventTypes.Resumed, actor.User, actor.Reason, ticket, state.Percentage, null, "resumed", details, now);
    }

    /// <summary>The end of a stopped rollout: recorded as rolled back with outcome "aborted" (status Aborted).</summary>
    public AuditEvent Stopped(RolloutState state, RolloutActor actor, string? ticket, RollbackResult rollback)
    {
        var details = StageDetails(state, state.StageIndex);
        details["cause"] = "stopped";
        details["percentage_before"] = Percent(state.Percentage);
        details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
        details["rollback"] = RollbackJson(rollback);
        return Event(state.Plan, RolloutEventTypes.RolledBack, actor.User, actor.Reason, ticket, 0, state.Percentage, "aborted", details);
    }

    public AuditEvent RolledBackOnBreach(RolloutState state, RolloutDecision decision, IReadOnlyList<GuardrailResult> tracked, RollbackResult rollback, string user, DateTimeOffset detectedAt, TimeSpan? detectionToFlagOff, DateTimeOffset now)
    {
        var details = StageDetails(state, state.StageIndex);
        details["cause"] = decision.Cause;
        details["percentage_before"] = Percent(state.Percentage);
        details["measured_at"] = GuardrailJson.Time(tracked.Select(t => t.EvaluatedAt).DefaultIfEmpty(now).Max());
        details["detected_at"] = GuardrailJson.Time(detectedAt);
        details["flag_off_at"] = rollback.FlagOffAt is { } flagOffAt ? GuardrailJson.Time(flagOffAt) : null;
        details["detection_to_flag_off_ms"] = (long?)detectionToFlagOff?.TotalMilliseconds;
        details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
        details["verified"] = rollback.Verified;
        details["evidence"] = new JArray(decision.Culprits.Select(c => c.ToJson()));
        details["rollback"] = RollbackJson(rollback);
        return Event(state.Plan, RolloutEventTypes.RolledBack, user, decision.Reason, state.Plan.ApprovalTicket, 0, state.Percentage, "rolled_back", details, now);
    }

    public AuditEvent EndedByEmergencyRollback(RolloutState state, FlagMutation request, RollbackResult rollback)
    {
        var details = StageDetails(state, state.StageIndex);
        details["cause"] = "emergency_rollback";
        details["percentage_before"] = Percent(state.Percentage);
        details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
        details["emergency_rollback_sequence"] = rollback.AuditSequence;
        details["verified"] = rollback.Verified;
        return Event(state.Plan, RolloutEventTypes.RolledBack, request.User, request.Reason ?? "emergency rollback", request.ApprovalTicket, 0, state.Percentage, "rolled_back", details);
    }

    private static JObject StageDetails(RolloutState state, int index) => new()
    {
        ["stage_index"] = index,
        ["stage_number"] = index + 1,
        ["stage_count"] = state.StageCount,
        ["percentage"] = Percent(index >= 0 ? state.Stages[index] : null),
    };

    // Integral percentages as integers, as the ledger codec writes rollout_percentage, so 25 reads "25" and not "25.0".
    private static JToken Percent(decimal? value) => value switch
    {
        null => JValue.CreateNull(),
        { } v when v == decimal.Truncate(v) => new JValue((long)v),
        { } v => new JValue(v),
    };

    private static JObject RollbackJson(RollbackResult rollback) => new()
    {
        ["started_at"] = GuardrailJson.Time(rollback.StartedAt),
        ["flag_off_at"] = rollback.FlagOffAt is { } off ? GuardrailJson.Time(off) : null,
        ["verified"] = rollback.Verified,
        ["audit_sequence"] = rollback.AuditSequence,
        ["steps"] = new JArray(rollback.Steps.Select(s => new JObject { ["name"] = s.Name, ["status"] = s.Status, ["duration_ms"] = (long)s.Duration.TotalMilliseconds, ["message"] = s.Message })),
    };

    private AuditEvent Event(RolloutPlan plan, string type, string user, string reason, string? ticket, decimal? percentage, decimal? previousPercentage, string outcome, JObject details, DateTimeOffset? at = null) => new()
    {
        Timestamp = at ?? time.GetUtcNow(),
        EventType = type,
        UserId = user,
        FeatureFlag = plan.Flag,
        Environment = plan.Environment,
        Reason = reason,
        RolloutPercentage = percentage,
        ApprovalTicket = ticket,
        RolloutId = plan.RolloutId,
        Store = store.Identity,
        PreviousPercentage = previousPercentage,
        Outcome = outcome,
        Details = details.ToString(Formatting.None),
    };
}
