using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// A rollout as its ledger events say it is. Nothing else holds rollout state: every process folds the same events
/// into the same state, which is what lets a scheduler on another agent continue a rollout a killed pwsh started.
/// A stage is "claimed" by rollout_stage_advanced and "applied" by the feature_flag_toggled that follows it; the bake
/// time runs from the toggle (when users actually got the stage), pauses keep what remained of it.
/// </summary>
public sealed class RolloutState
{
    private readonly Dictionary<string, GuardrailResult> lastEvaluations = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<GuardrailResult> breaches = new();

    private RolloutState(RolloutPlan plan, AuditEvent started)
    {
        Plan = plan;
        Store = started.Store ?? "";
        StartedAt = started.Timestamp;
        StartedBy = started.UserId ?? plan.User;
    }

    public string RolloutId => Plan.RolloutId;

    public string Flag => Plan.Flag;

    public string Environment => Plan.Environment;

    /// <summary>The store the rollout was started on (its display name); another store must not continue it.</summary>
    public string Store { get; }

    public RolloutPlan Plan { get; }

    public RolloutStatus Status { get; private set; } = RolloutStatus.Running;

    public bool IsActive => Status is RolloutStatus.Running or RolloutStatus.Paused;

    public IReadOnlyList<decimal> Stages => Plan.Stages;

    public TimeSpan BakeTime => Plan.BakeTime;

    /// <summary>0-based index of the current stage; -1 before the first stage was claimed.</summary>
    public int StageIndex { get; private set; } = -1;

    /// <summary>1-based, as users count stages; 0 before the first.</summary>
    public int StageNumber => StageIndex + 1;

    public int StageCount => Plan.Stages.Count;

    /// <summary>The current stage's percentage; null before the first stage.</summary>
    public decimal? Percentage => StageIndex >= 0 ? Plan.Stages[StageIndex] : null;

    public bool IsLastStage => StageIndex == Plan.Stages.Count - 1;

    /// <summary>When the current stage was decided (rollout_stage_advanced).</summary>
    public DateTimeOffset? StageClaimedAt { get; private set; }

    /// <summary>True once the flag change for the current stage is recorded; until then the bake time has not started.</summary>
    public bool StageApplied { get; private set; }

    public DateTimeOffset? StageEnteredAt { get; private set; }

    /// <summary>When the current stage's bake ends, while running; null while paused or before the stage is applied.</summary>
    public DateTimeOffset? BakeDueAt { get; private set; }

    public TimeSpan? RemainingBakeWhenPaused { get; private set; }

    public DateTimeOffset? PausedAt { get; private set; }

    /// <summary>manual, guardrail_breach, no_data or drift.</summary>
    public string? PauseCause { get; private set; }

    public string? PauseReason { get; private set; }

    public DateTimeOffset StartedAt { get; }

    public string StartedBy { get; }

    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>completed, guardrail_breach, no_data, stopped or emergency_rollback.</summary>
    public string? EndCause { get; private set; }

    public string? EndReason { get; private set; }

    public string? EndedBy { get; private set; }

    /// <summary>For a rollback by a guardrail: from the decision to roll back to the flag being off.</summary>
    public TimeSpan? DetectionToFlagOff { get; private set; }

    /// <summary>The latest evaluation of each guardrail, in plan order.</summary>
    public IReadOnlyList<GuardrailResult> LastEvaluations
        => Plan.Guardrails.Select(g => lastEvaluations.GetValueOrDefault(g.Name)).Where(r => r is not null).Select(r => r!).ToArray();

    public IReadOnlyList<GuardrailResult> Breaches => breaches;

    public int EvaluationCount { get; private set; }

    /// <summary>The current stage's change is applied but the store has not reported it live yet; its bake has not started.</summary>
    public bool AwaitingPropagation { get; private set; }

    /// <summary>The sequence of the last event of this rollout.</summary>
    public long LastSequence { get; private set; }

    /// <summary>The ledger head when this state was read: a decision based on it is appended only if the head has not moved.</summary>
    public long HeadSequence { get; private set; }

    public int EventCount { get; private set; }

    /// <summary>Events folded from the local spool, not yet in the ledger.</summary>
    public int SpooledEventCount { get; private set; }

    public DateTimeOffset LastEventAt { get; private set; }

    /// <summary>Bake time still to run: frozen while paused, the whole bake before the stage is applied.</summary>
    public TimeSpan RemainingBake(DateTimeOffset now)
    {
        if (Status == RolloutStatus.Paused)
        {
            return RemainingBakeWhenPaused ?? BakeTime;
        }

        if (!IsActive)
        {
            return TimeSpan.Zero;
        }

        if (BakeDueAt is { } due)
        {
            return due > now ? due - now : TimeSpan.Zero;
        }

        return BakeTime;
    }

    /// <summary>The For tracking of a guardrail as its latest evaluation left it.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset>? ActiveSince(string guardrail)
        => lastEvaluations.TryGetValue(guardrail, out var last) ? last.ActiveSince : null;

    public override string ToString()
        => $"{RolloutId}: {Flag} [{Environment}] {Status} stage {StageNumber}/{StageCount}{(Percentage is { } p ? $" ({FlagPercentage.Format(p)}%)" : "")}";

    /// <summary>Folds one rollout's events (all carrying its rollout_id), in ledger order.</summary>
    public static RolloutState Fold(IEnumerable<AuditEvent> events, long headSequence)
    {
        RolloutState? state = null;
        // Spooled events (sequence 0: not in the ledger yet) happened after what the ledger holds; they fold last, in order.
        foreach (var e in events.OrderBy(e => e.Sequence == 0 ? long.MaxValue : e.Sequence))
        {
            if (state is null)
            {
                if (e.EventType == RolloutEventTypes.Started)
                {
                    var plan = RolloutPlan.FromJson(Details(e)["plan"] as JObject ?? throw Unreadable(e, "it has no plan"));
                    state = new RolloutState(plan, e);
                    state.Touch(e);
                }

                continue;
            }

            state.Apply(e);
            state.Touch(e);
        }

        if (state is null)
        {
            throw new FlagsException("RolloutNotFound", FlagsErrorKind.ObjectNotFound, "The ledger has no rollout_started event for this rollout.");
        }

        state.HeadSequence = Math.Max(headSequence, state.LastSequence);
        return state;
    }

    internal static JObject Details(AuditEvent e)
    {
        if (e.Details is null)
        {
            return new JObject();
        }

        try
        {
            return AuditEventCodec.ParseJson(e.Details) as JObject ?? new JObject();
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return new JObject();
        }
    }

    private void Touch(AuditEvent e)
    {
        EventCount++;
        LastSequence = Math.Max(LastSequence, e.Sequence);
        if (e.Sequence == 0)
        {
            SpooledEventCount++;
        }

        LastEventAt = e.Timestamp;
    }

    private void Apply(AuditEvent e)
    {
        switch (e.EventType)
        {
            case RolloutEventTypes.GuardrailEvaluated:
                // Evidence and For tracking are kept even after the end: they are what happened.
                var result = GuardrailResult.FromJson(Details(e));
                lastEvaluations[result.Guardrail] = result;
                EvaluationCount++;
                return;
            case RolloutEventTypes.GuardrailBreached:
                if (Details(e)["result"] is JObject breached)
                {
                    breaches.Add(GuardrailResult.FromJson(breached));
                }

                return;
        }

        if (!IsActive)
        {
            // A late event after the end (a racing process's record) cannot reopen a rollout.
            return;
        }

        switch (e.EventType)
        {
            case RolloutEventTypes.StageAdvanced:
                var index = (int?)Details(e)["stage_index"] ?? StageIndex + 1;
                if (index < 0 || index >= Plan.Stages.Count)
                {
                    throw Unreadable(e, $"stage index {index} is outside the plan");
                }

                StageIndex = index;
                StageClaimedAt = e.Timestamp;
                StageApplied = false;
                AwaitingPropagation = false;
                StageEnteredAt = null;
                BakeDueAt = null;
                if (Status == RolloutStatus.Paused)
                {
                    RemainingBakeWhenPaused = BakeTime;
                }

                break;
            case FlagOperations.ToggledEventType:
                var requested = (decimal?)Details(e)["requested_percentage"] ?? e.RolloutPercentage;
                if (StageIndex >= 0 && !StageApplied && e.NewState == true && requested == Plan.Stages[StageIndex])
                {
                    StageApplied = true;
                    if ((string?)Details(e)["propagation"] == "pending")
                    {
                        // Applied but not yet live (a ConfigMap before its pods restart): the bake starts at propagation.
                        AwaitingPropagation = true;
                        break;
                    }

                    StageEnteredAt = e.Timestamp;
                    if (Status == RolloutStatus.Running)
                    {
                        BakeDueAt = e.Timestamp + BakeTime;
                    }
                    else
                    {
                        RemainingBakeWhenPaused = BakeTime;
                    }
                }

                break;
            case FlagOperations.PropagatedEventType:
                if (AwaitingPropagation && e.Outcome == "propagated")
                {
                    AwaitingPropagation = false;
                    StageEnteredAt = e.Timestamp;
                    if (Status == RolloutStatus.Running)
                    {
                        BakeDueAt = e.Timestamp + BakeTime;
                    }
                    else
                    {
                        RemainingBakeWhenPaused = BakeTime;
                    }
                }

                break;
            case RolloutEventTypes.Paused:
                if (Status == RolloutStatus.Running)
                {
                    RemainingBakeWhenPaused = RemainingBake(e.Timestamp);
                    BakeDueAt = null;
                    Status = RolloutStatus.Paused;
                    PausedAt = e.Timestamp;
                    PauseCause = (string?)Details(e)["cause"] ?? "manual";
                    PauseReason = e.Reason;
                }

                break;
            case RolloutEventTypes.Resumed:
                if (Status == RolloutStatus.Paused)
                {
                    Status = RolloutStatus.Running;
                    if (StageApplied && !AwaitingPropagation)
                    {
                        BakeDueAt = e.Timestamp + (RemainingBakeWhenPaused ?? BakeTime);
                    }

                    RemainingBakeWhenPaused = null;
                    PausedAt = null;
                    PauseCause = null;
                    PauseReason = null;
                }

                break;
            case RolloutEventTypes.Completed:
                End(e, RolloutStatus.Completed, "completed");
                break;
            case RolloutEventTypes.RolledBack:
                var details = Details(e);
                End(e, e.Outcome == "aborted" ? RolloutStatus.Aborted : RolloutStatus.RolledBack, (string?)details["cause"] ?? "rolled_back");
                if ((long?)details["detection_to_flag_off_ms"] is { } ms)
                {
                    DetectionToFlagOff = TimeSpan.FromMilliseconds(ms);
                }

                break;
            case EmergencyRollback.EventType:
                // The flag went off; the rollout_rolled_back that follows ends the rollout. Nothing to fold here.
                break;
        }
    }

    private void End(AuditEvent e, RolloutStatus status, string cause)
    {
        Status = status;
        EndedAt = e.Timestamp;
        EndCause = cause;
        EndReason = e.Reason;
        EndedBy = e.UserId;
        BakeDueAt = null;
        RemainingBakeWhenPaused = null;
    }

    private static FlagsException Unreadable(AuditEvent e, string why)
        => new("RolloutPlanUnreadable", FlagsErrorKind.InvalidData, $"Ledger event #{e.Sequence} ({e.EventType}) of rollout '{e.RolloutId}' cannot be folded: {why}.", e.RolloutId);
}
