using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Progressive rollouts as a state machine folded from the ledger. No state lives in this object: every call reads the
/// rollout's events, decides, and appends its decision with the ledger head it read (expectedHeadSequence), so two
/// processes stepping one rollout produce one decision and the other re-reads.
///
/// Ordering, and why:
/// - Raising exposure is decided first and done second: rollout_stage_advanced is appended with the expected head
///   (the claim; a loser gets LedgerHeadMoved, re-reads and sees the stage already taken), then the flag is set to the
///   stage's absolute percentage through FlagOperations, whose feature_flag_toggled (with the rollout_id) marks the
///   stage applied and starts its bake time. A process that dies between the two leaves a claimed, unapplied stage
///   that the next Step applies once <see cref="RolloutEngineOptions.StageApplyGrace"/> has passed (an absolute
///   target, so applying it twice is harmless).
/// - Lowering exposure never waits: a critical breach or Stop switches the flag off first through
///   <see cref="EmergencyRollback"/> and records afterwards (spooling if the ledger is down), without an expected head.
/// - An advance that raced a rollback would switch the flag back on after it went off; so the advancer re-reads after
///   its change and the ender re-asserts "off" after recording the end: whichever runs last switches the flag off.
/// </summary>
public sealed class RolloutEngine
{
    private readonly IFlagStore store;
    private readonly AuditTrail audit;
    private readonly GuardrailFactory guardrailFactory;
    private readonly TimeProvider time;
    private readonly RolloutEngineOptions options;
    private readonly FlagOperations operations;
    private readonly StreamDecisionLoop decisions;

    public RolloutEngine(IFlagStore store, AuditTrail audit, GuardrailFactory guardrails, TimeProvider? time = null, RolloutEngineOptions? options = null)
    {
        this.store = store;
        this.audit = audit;
        guardrailFactory = guardrails;
        this.time = time ?? TimeProvider.System;
        this.options = options ?? RolloutEngineOptions.Default;
        operations = new FlagOperations(store, audit, this.time);
        decisions = new StreamDecisionLoop(audit, this.options.MaxDecisionAttempts);
    }

    /// <summary>Pass to <see cref="EmergencyRollback"/> so that a rollback of a flag under rollout ends that rollout as rolled back.</summary>
    public IEmergencyRollbackListener EmergencyRollbackListener => new RolloutRollbackListener(this);

    private ILedger Ledger => audit.Ledger;

    private IOperationLog Log => audit.Log;

    /// <summary>
    /// Validates the plan as Start would (ErrorIds included) and evaluates every guardrail now, without changing or
    /// recording anything: the -WhatIf view.
    /// </summary>
    public async Task<RolloutPreview> PreviewAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var current = await ValidateStartAsync(plan, cancellationToken).ConfigureAwait(false);
        await EnsureStartableAsync(plan, cancellationToken).ConfigureAwait(false);
        var results = await PreflightAsync(plan, current, cancellationToken).ConfigureAwait(false);
        return plan.Preview(current, results);
    }

    /// <summary>
    /// Validates, checks that no rollout of the flag is active, evaluates the guardrails once (a query Prometheus rejects
    /// fails here, before any change), records rollout_started with the whole plan, claims stage 1 and sets its
    /// percentage. Nothing is changed or recorded when it throws before rollout_started.
    /// </summary>
    public async Task<RolloutState> StartAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var current = await ValidateStartAsync(plan, cancellationToken).ConfigureAwait(false);

        // Checked here as well as under the expected head below, so a second rollout is refused before Prometheus is asked.
        await EnsureStartableAsync(plan, cancellationToken).ConfigureAwait(false);
        var baseline = await PreflightAsync(plan, current, cancellationToken).ConfigureAwait(false);
        foreach (var unhealthy in baseline.Where(b => b.Status != GuardrailStatus.Healthy))
        {
            Log.Warning($"Before the rollout starts, {unhealthy.Evidence}");
        }

        // Fail closed: a guardrail that cannot see anything now cannot protect the first stage either.
        var blind = baseline.Where(b => b.Status is GuardrailStatus.NoData or GuardrailStatus.Error && b.NoData != NoDataPolicy.Pass).ToArray();
        if (blind.Length > 0)
        {
            throw new FlagsException(
                "RolloutGuardrailNoData",
                FlagsErrorKind.InvalidOperation,
                $"The rollout was not started: {string.Join(" | ", blind.Select(b => b.Evidence))}. A guardrail without data cannot protect the first stage; fix its query or source, or give it -NoData Pass.",
                plan.Flag);
        }

        await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        await FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
        await decisions.RunAsync<long, bool>(
            LedgerStream.FlagIn(plan.Flag, plan.Environment),
            async ct =>
            {
                // No rollout of this flag may start between this check and the append: they are one decision on the flag's stream.
                var head = await Ledger.GetHeadSequenceAsync(ct).ConfigureAwait(false);
                await EnsureStartableAsync(plan, ct).ConfigureAwait(false);
                return (head, head);
            },
            _ =>
            {
                var details = new JObject
                {
                    ["plan"] = plan.ToJson(),
                    ["initial_state"] = new JObject { ["on"] = current.On, ["percentage"] = Percent(current.EffectivePercentage), ["version"] = current.Version },
                    ["baseline"] = new JArray(baseline.Select(b => b.ToJson())),
                    ["timeline"] = new JArray(plan.Preview().Stages.Select(s => new JObject { ["stage_number"] = s.Number, ["percentage"] = Percent(s.Percentage), ["earliest_start"] = GuardrailJson.Span(s.EarliestStart) })),
                };
                var draft = Event(plan, RolloutEventTypes.Started, plan.User, plan.Reason, plan.ApprovalTicket, null, current.EffectivePercentage, "started", details);
                return Task.FromResult(StreamDecision<bool>.Append(new[] { draft }, _ => Task.FromResult(true)));
            },
            afterChange: false,
            () => LedgerBusy(plan.RolloutId),
            cancellationToken).ConfigureAwait(false);

        Log.Verbose($"Recorded rollout_started for {plan}.");
        var state = await LoadAsync(plan.RolloutId, cancellationToken).ConfigureAwait(false);
        try
        {
            await ClaimAndApplyFirstStageAsync(state, plan.User, "start", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FlagsException or IOException or HttpRequestException)
        {
            Log.Warning($"Rollout {plan.RolloutId} is recorded, but setting its first stage failed ({ex.Message}). Step-FlagRollout applies it again after {GuardrailResult.Duration(options.StageApplyGrace)}; Stop-FlagRollout abandons it.");
            throw;
        }

        return await LoadAsync(plan.RolloutId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Steps the active rollout of a flag in an environment; RolloutNotFound when there is none.</summary>
    public async Task<RolloutStepResult> StepAsync(string flag, string environment, string? user, CancellationToken cancellationToken)
    {
        var active = await FindActiveAsync(flag, environment, cancellationToken).ConfigureAwait(false)
            ?? throw NoActiveRollout(flag, environment);
        return await StepAsync(active.RolloutId, user, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Does at most one thing and says which: roll back (critical breach), pause (warning breach, no data, drift),
    /// advance or complete (bake time over, every guardrail healthy), or wait. Every guardrail evaluation is recorded.
    /// Idempotent: calling it again changes nothing until time passes or the metrics change.
    /// </summary>
    public async Task<RolloutStepResult> StepAsync(string rolloutId, string? user, CancellationToken cancellationToken)
    {
        user = UserIdentity.Resolve(user);
        await FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
        var state = await LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);
        EnsureSameStore(state);
        if (!state.IsActive)
        {
            return Result(state, RolloutStepAction.NoAction, $"The rollout is {state.Status} ({state.EndCause}: {state.EndReason}); nothing to do.");
        }

        if (state.Status == RolloutStatus.Running && !state.StageApplied)
        {
            return await ContinueStageAsync(state, user, cancellationToken).ConfigureAwait(false);
        }

        Log.Verbose($"Rollout {rolloutId}: {state.Status} at stage {state.StageNumber}/{state.StageCount}; evaluating {state.Plan.Guardrails.Count} guardrail(s).");
        var measured = await MeasureAsync(state.Plan, GuardrailContext.ForStage(state.StageEnteredAt, state.BakeDueAt, state.Percentage), cancellationToken).ConfigureAwait(false);
        var detectedAt = DateTimeOffset.UtcNow;
        foreach (var result in measured)
        {
            Log.Verbose(result.Evidence);
        }

        var first = state;
        var folded = 0;
        return await decisions.RunAsync<RolloutState, RolloutStepResult>(
            LedgerStream.Rollout(rolloutId),
            async ct =>
            {
                // The first attempt decides on the state already folded above; a retry after a conflict folds again.
                var fresh = folded++ == 0 ? first : await LoadAsync(rolloutId, ct).ConfigureAwait(false);
                return (fresh, fresh.HeadSequence);
            },
            async fresh =>
            {
                if (fresh.Status != first.Status || fresh.StageIndex != first.StageIndex || fresh.StageApplied != first.StageApplied)
                {
                    // Someone else decided in the meantime; this measurement belongs to the state before their decision.
                    return StreamDecision<RolloutStepResult>.Done(Result(fresh, RolloutStepAction.NoAction, $"Another process acted on this rollout while this step was deciding; it is now {fresh.Status} at stage {fresh.StageNumber}/{fresh.StageCount}. Nothing done."));
                }

                var now = time.GetUtcNow();
                var tracked = measured.Select(m => ForDurationTracker.Track(m, fresh.ActiveSince(m.Guardrail))).ToArray();
                var decision = RolloutDecider.Decide(fresh, tracked, now);
                if (decision.Action == RolloutStepAction.RolledBack)
                {
                    return StreamDecision<RolloutStepResult>.Done(await RollBackOnBreachAsync(fresh, tracked, decision, user, detectedAt).ConfigureAwait(false));
                }

                if (decision.Action is RolloutStepAction.Advanced or RolloutStepAction.Completed)
                {
                    decision = await CheckDriftAsync(fresh, decision, cancellationToken).ConfigureAwait(false);
                }

                Log.Verbose($"Rollout {rolloutId}: {decision.Action} — {decision.Reason}");

                // Evaluations and the decision are one unit: all recorded, or none and decided again.
                var drafts = tracked.Select(t => EvaluatedEvent(fresh, t, user, now)).Concat(DecisionEvents(fresh, decision, tracked, user, now)).ToArray();
                return StreamDecision<RolloutStepResult>.Append(drafts, async _ =>
                {
                    if (decision.Action == RolloutStepAction.Advanced)
                    {
                        // The claim is recorded: from here a Ctrl+C must not leave the stage decided but not made.
                        await ApplyStageAsync(fresh.Plan, fresh.StageIndex + 1, user, CancellationToken.None).ConfigureAwait(false);
                        var advanced = await GuardAfterApplyAsync(rolloutId, user).ConfigureAwait(false);
                        return Result(advanced, decision.Action, decision.Reason, tracked, previousPercentage: fresh.Percentage);
                    }

                    var after = await LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);
                    return Result(after, decision.Action, decision.Reason, tracked, remaining: decision.Action is RolloutStepAction.Waiting or RolloutStepAction.Paused or RolloutStepAction.NoAction ? decision.RemainingBake : null);
                });
            },
            afterChange: false,
            () => LedgerBusy(rolloutId),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pauses a running rollout, keeping the remaining bake time; a paused one is returned unchanged.</summary>
    public Task<RolloutState> SuspendAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => AppendStatusChangeAsync(rolloutId, actor, RolloutStatus.Paused, (state, now) =>
        {
            var details = StageDetails(state, state.StageIndex);
            details["cause"] = "manual";
            details["remaining_bake"] = GuardrailJson.Span(state.RemainingBake(now));
            return Event(state.Plan, RolloutEventTypes.Paused, actor.User, actor.Reason, actor.ApprovalTicket ?? state.Plan.ApprovalTicket, state.Percentage, null, "paused", details, now);
        }, cancellationToken);

    /// <summary>Resumes a paused rollout with the bake time that remained when it paused; a running one is returned unchanged.</summary>
    public Task<RolloutState> ResumeAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => AppendStatusChangeAsync(rolloutId, actor, RolloutStatus.Running, (state, now) =>
        {
            var ticket = actor.ApprovalTicket ?? state.Plan.ApprovalTicket;
            if (string.IsNullOrWhiteSpace(ticket) && FlagOperations.IsProtected(store, state.Environment))
            {
                throw new FlagsException("ApprovalTicketRequired", FlagsErrorKind.PermissionDenied, $"Resuming a rollout in '{state.Environment}' requires -ApprovalTicket.", rolloutId);
            }

            var remaining = state.RemainingBake(now);
            var details = StageDetails(state, state.StageIndex);
            details["remaining_bake"] = GuardrailJson.Span(remaining);
            details["bake_due_at"] = state.StageApplied ? GuardrailJson.Time(now + remaining) : null;
            details["paused_at"] = state.PausedAt is { } pausedAt ? GuardrailJson.Time(pausedAt) : null;
            details["pause_cause"] = state.PauseCause;
            return Event(state.Plan, RolloutEventTypes.Resumed, actor.User, actor.Reason, ticket, state.Percentage, null, "resumed", details, now);
        }, cancellationToken);

    /// <summary>
    /// Suspend and Resume: fold the state, return it as is when it already has the target status, otherwise append the
    /// event built from it at the head it was folded from; when another writer moved the head, fold again and decide again.
    /// </summary>
    private async Task<RolloutState> AppendStatusChangeAsync(string rolloutId, RolloutActor actor, RolloutStatus target, Func<RolloutState, DateTimeOffset, AuditEvent> buildEvent, CancellationToken cancellationToken)
    {
        RequireReason(actor, rolloutId);
        return await decisions.RunAsync<RolloutState, RolloutState>(
            LedgerStream.Rollout(rolloutId),
            FoldAsync(rolloutId),
            state =>
            {
                EnsureSameStore(state);
                RequireActive(state);
                return Task.FromResult(state.Status == target
                    ? StreamDecision<RolloutState>.Done(state)
                    : StreamDecision<RolloutState>.Append(new[] { buildEvent(state, time.GetUtcNow()) }, _ => LoadAsync(rolloutId, cancellationToken)));
            },
            afterChange: false,
            () => LedgerBusy(rolloutId),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Aborts: the flag goes off first through the emergency-rollback path, then the rollout is recorded as
    /// rolled back with outcome "aborted" (status Aborted).
    /// </summary>
    public async Task<RolloutStepResult> StopAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
    {
        RequireReason(actor, rolloutId);
        var state = await LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);
        EnsureSameStore(state);
        RequireActive(state);
        var mutation = TurnOff(state.Plan, actor.User, $"Rollout {rolloutId} stopped: {actor.Reason}", actor.ApprovalTicket ?? state.Plan.ApprovalTicket);

        // Once asked, the flag goes off even if the caller is cancelled meanwhile: a half-stopped rollout is the worst outcome.
        var rollback = await new EmergencyRollback(store, audit).RunAsync(mutation, CancellationToken.None).ConfigureAwait(false);
        await RecordEndAsync(rolloutId, ended =>
        {
            var details = StageDetails(ended, ended.StageIndex);
            details["cause"] = "stopped";
            details["percentage_before"] = Percent(ended.Percentage);
            details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
            details["rollback"] = RollbackJson(rollback);
            return new[] { Event(ended.Plan, RolloutEventTypes.RolledBack, actor.User, actor.Reason, mutation.ApprovalTicket, 0, ended.Percentage, "aborted", details) };
        }).ConfigureAwait(false);

        var after = await EnsureOffAfterEndAsync(rolloutId, actor.User).ConfigureAwait(false);
        return Result(after, RolloutStepAction.RolledBack, $"Stopped by {actor.User}: {actor.Reason}. The flag is off (in {rollback.TimeToFlagOff?.TotalMilliseconds:0} ms).", rollback: rollback, previousPercentage: state.Percentage);
    }

    public async Task<RolloutState> GetAsync(string rolloutId, CancellationToken cancellationToken)
        => await LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);

    /// <summary>The Running or Paused rollout of a flag in an environment, or null.</summary>
    public async Task<RolloutState?> FindActiveAsync(string flag, string environment, CancellationToken cancellationToken)
        => (await ActiveRolloutsAsync(flag, environment, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>Rollouts folded from the ledger, newest first; filtered by flag and environment when given.</summary>
    public async Task<IReadOnlyList<RolloutState>> ListAsync(string? flag, string? environment, bool activeOnly, CancellationToken cancellationToken)
    {
        var head = await Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        var byRollout = (await Ledger.ReadListAsync(new AuditQuery { Flag = flag, Environment = environment }, cancellationToken).ConfigureAwait(false))
            .Where(e => e.RolloutId is not null)
            .GroupBy(e => e.RolloutId!, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Any(e => e.EventType == RolloutEventTypes.Started))
            .Select(g => RolloutState.Fold(g, head))
            .Where(s => !activeOnly || s.IsActive)
            .OrderByDescending(s => s.StartedAt)
            .ToArray();
        return byRollout;
    }

    /// <summary>Records every active rollout of the flag as rolled back after an emergency rollback switched it off.</summary>
    internal async Task<IReadOnlyList<string>> EndAfterEmergencyRollbackAsync(FlagMutation request, RollbackResult rollback, CancellationToken cancellationToken)
    {
        var ended = new List<string>();
        foreach (var state in await ActiveRolloutsAsync(request.Flag, request.Environment, cancellationToken).ConfigureAwait(false))
        {
            if (!IsThisStore(state))
            {
                Log.Verbose($"Rollout {state.RolloutId} runs on {state.Store}, not {store.Identity}; the emergency rollback did not touch it.");
                continue;
            }

            await RecordEndAsync(state.RolloutId, ended =>
            {
                var details = StageDetails(ended, ended.StageIndex);
                details["cause"] = "emergency_rollback";
                details["percentage_before"] = Percent(ended.Percentage);
                details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
                details["emergency_rollback_sequence"] = rollback.AuditSequence;
                details["verified"] = rollback.Verified;
                return new[] { Event(ended.Plan, RolloutEventTypes.RolledBack, request.User, request.Reason ?? "emergency rollback", request.ApprovalTicket, 0, ended.Percentage, "rolled_back", details) };
            }).ConfigureAwait(false);
            Log.Verbose($"Rollout {state.RolloutId} ended as rolled back by the emergency rollback.");
            ended.Add(state.RolloutId);
        }

        return ended;
    }

    private async Task<RolloutState> LoadAsync(string rolloutId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(rolloutId))
        {
            throw new FlagsException("RolloutIdRequired", FlagsErrorKind.InvalidArgument, "A rollout id is required.");
        }

        // The head is read BEFORE the events: a decision appended with it fails if anything at all was appended since,
        // including events this read might have missed.
        var head = await Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        var events = await Ledger.ReadListAsync(new AuditQuery { RolloutId = rolloutId }, cancellationToken).ConfigureAwait(false);

        // Events of this rollout still in the local spool (a rollback recorded while the ledger was down) are part of
        // its state: a rollout whose end is spooled has ended, and no advance may be decided on it.
        var recordedIds = events.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        events.AddRange(audit.Spool.Peek(Ledger).Where(e => string.Equals(e.RolloutId, rolloutId, StringComparison.OrdinalIgnoreCase) && !recordedIds.Contains(e.EventId)));
        if (!events.Any(e => e.EventType == RolloutEventTypes.Started))
        {
            throw new FlagsException("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"There is no rollout '{rolloutId}' in {Ledger.Name}.", rolloutId);
        }

        return RolloutState.Fold(events, head);
    }

    private async Task<IReadOnlyList<RolloutState>> ActiveRolloutsAsync(string flag, string environment, CancellationToken cancellationToken)
    {
        // Only the lifecycle events are read to find candidates; just those are folded in full.
        var candidates = (await Ledger.ReadListAsync(new AuditQuery { Flag = flag, Environment = environment, EventTypes = RolloutEventTypes.Lifecycle }, cancellationToken).ConfigureAwait(false))
            .Where(e => e.RolloutId is not null)
            .GroupBy(e => e.RolloutId!, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Any(e => e.EventType == RolloutEventTypes.Started) && !g.Any(e => e.EventType is RolloutEventTypes.Completed or RolloutEventTypes.RolledBack))
            .Select(g => g.Key)
            .ToArray();
        var active = new List<RolloutState>();
        foreach (var id in candidates)
        {
            var state = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
            if (state.IsActive)
            {
                active.Add(state);
            }
        }

        return active;
    }

    private async Task<FlagState> ValidateStartAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        plan.Validate();
        FlagOperations.Validate(store, StageMutation(plan, 0, plan.User));
        foreach (var definition in plan.Guardrails)
        {
            guardrailFactory.Create(definition);
        }

        var current = (await store.GetFlagsAsync(plan.Environment, plan.Flag, cancellationToken).ConfigureAwait(false))[0];

        // A rollout only raises exposure; starting one on a flag already above its first stage would cut users off.
        if (current.On && current.EffectivePercentage > plan.Stages[0])
        {
            throw new FlagsException(
                "RolloutFlagAboveFirstStage",
                FlagsErrorKind.InvalidOperation,
                $"'{plan.Flag}' in '{plan.Environment}' is already on at {FlagPercentage.Format(current.EffectivePercentage ?? 0)}%, above the first stage ({FlagPercentage.Format(plan.Stages[0])}%). Start from a lower state or choose stages above it.",
                plan.Flag);
        }

        return current;
    }

    private async Task EnsureStartableAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var active = await ActiveRolloutsAsync(plan.Flag, plan.Environment, cancellationToken).ConfigureAwait(false);
        if (active.Count > 0)
        {
            throw new FlagsException(
                "RolloutAlreadyActive",
                FlagsErrorKind.InvalidOperation,
                $"'{plan.Flag}' in '{plan.Environment}' already has an active rollout: {active[0]}. Step, resume or stop it first.",
                active[0].RolloutId);
        }

        if ((await Ledger.ReadListAsync(new AuditQuery { RolloutId = plan.RolloutId, First = 1 }, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            throw new FlagsException("RolloutIdInUse", FlagsErrorKind.InvalidArgument, $"The ledger already has events for rollout id '{plan.RolloutId}'; choose another id.", plan.RolloutId);
        }
    }

    private async Task<IReadOnlyList<GuardrailResult>> PreflightAsync(RolloutPlan plan, FlagState current, CancellationToken cancellationToken)
    {
        // Unlike during a Step, a rejected query here is a bad input: it throws PrometheusQueryRejected before any change.
        var context = GuardrailContext.BeforeRollout(current.EffectivePercentage);
        var tasks = plan.Guardrails.Select(d => guardrailFactory.Create(d).EvaluateAsync(context, cancellationToken)).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<GuardrailResult>> MeasureAsync(RolloutPlan plan, GuardrailContext context, CancellationToken cancellationToken)
    {
        var tasks = plan.Guardrails.Select(async definition =>
        {
            try
            {
                return await guardrailFactory.Create(definition).EvaluateAsync(context, cancellationToken).ConfigureAwait(false);
            }
            catch (FlagsException ex) when (ex.ErrorId == "PrometheusQueryRejected")
            {
                // Mid-rollout the query was accepted before: a rejection now (an upgrade, a relabelling) makes the
                // guardrail blind, which the no-data policy governs; it must not stop the Step from recording it.
                return new GuardrailResult
                {
                    Guardrail = definition.Name,
                    Kind = definition.Kind,
                    Severity = definition.Severity,
                    Status = GuardrailStatus.Error,
                    Counted = false,
                    Query = definition.Query,
                    Expression = definition.Expression,
                    Operator = definition.Operator,
                    Threshold = definition.Threshold,
                    For = definition.For,
                    NoData = definition.NoData,
                    EvaluatedAt = time.GetUtcNow(),
                    Reason = ex.Message,
                };
            }
        }).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>A running rollout whose current stage is not applied: claim stage 1 if nothing was, or finish an interrupted change.</summary>
    private async Task<RolloutStepResult> ContinueStageAsync(RolloutState state, string user, CancellationToken cancellationToken)
    {
        if (state.StageIndex < 0)
        {
            var claimed = await ClaimAndApplyFirstStageAsync(state, user, "recovery", cancellationToken).ConfigureAwait(false);
            var fresh = await LoadAsync(state.RolloutId, cancellationToken).ConfigureAwait(false);
            return claimed
                ? Result(fresh, RolloutStepAction.Advanced, $"Entered stage 1/{fresh.StageCount} ({FlagPercentage.Format(fresh.Stages[0])}%): the start had been interrupted before its first stage.", previousPercentage: 0)
                : Result(fresh, RolloutStepAction.NoAction, "Another process entered the first stage at the same time; nothing done.");
        }

        var now = time.GetUtcNow();
        var claimedAt = state.StageClaimedAt ?? state.StartedAt;
        if (now - claimedAt < options.StageApplyGrace)
        {
            return Result(state, RolloutStepAction.Waiting, $"Stage {state.StageNumber}/{state.StageCount} was decided at {claimedAt:u}; its flag change is presumably under way in another process. If it is not recorded by {claimedAt + options.StageApplyGrace:u}, the next Step makes it.", remaining: state.BakeTime);
        }

        await ApplyStageAsync(state.Plan, state.StageIndex, user, cancellationToken).ConfigureAwait(false);
        var after = await GuardAfterApplyAsync(state.RolloutId, user).ConfigureAwait(false);
        return Result(after, RolloutStepAction.Advanced, $"Applied stage {state.StageNumber}/{state.StageCount} ({FlagPercentage.Format(state.Percentage ?? 0)}%), decided at {claimedAt:u} by a step that did not finish; its bake time starts now.");
    }

    private async Task<bool> ClaimAndApplyFirstStageAsync(RolloutState state, string user, string trigger, CancellationToken cancellationToken)
        => await decisions.RunAsync<RolloutState, bool>(
            LedgerStream.Rollout(state.RolloutId),
            FoldAsync(state.RolloutId),
            fresh =>
            {
                if (fresh.StageIndex >= 0 || !fresh.IsActive)
                {
                    return Task.FromResult(StreamDecision<bool>.Done(false));
                }

                var draft = StageAdvancedEvent(fresh, 0, user, $"Rollout {fresh.RolloutId} enters stage 1/{fresh.StageCount} ({FlagPercentage.Format(fresh.Stages[0])}%).", Array.Empty<GuardrailResult>(), trigger, time.GetUtcNow());
                return Task.FromResult(StreamDecision<bool>.Append(new[] { draft }, async _ =>
                {
                    await ApplyStageAsync(fresh.Plan, 0, user, CancellationToken.None).ConfigureAwait(false);
                    await GuardAfterApplyAsync(fresh.RolloutId, user).ConfigureAwait(false);
                    return true;
                }));
            },
            afterChange: false,
            () => LedgerBusy(state.RolloutId),
            cancellationToken).ConfigureAwait(false);

    private Task<FlagChangeRecord> ApplyStageAsync(RolloutPlan plan, int index, string user, CancellationToken cancellationToken)
        => operations.ChangeAsync(StageMutation(plan, index, user), cancellationToken);

    private static FlagMutation StageMutation(RolloutPlan plan, int index, string user) => new()
    {
        Flag = plan.Flag,
        Environment = plan.Environment,
        Kind = FlagChangeKind.SetPercentage,
        Percentage = plan.Stages[index],
        Reason = string.IsNullOrWhiteSpace(plan.Reason) ? plan.Reason : $"{plan.Reason} — rollout {plan.RolloutId} stage {index + 1}/{plan.Stages.Count} ({FlagPercentage.Format(plan.Stages[index])}% of users)",
        ApprovalTicket = plan.ApprovalTicket,
        User = user,
        RolloutId = plan.RolloutId,
        Rule = plan.Rule,
    };

    private static FlagMutation TurnOff(RolloutPlan plan, string user, string reason, string? ticket) => new()
    {
        Flag = plan.Flag,
        Environment = plan.Environment,
        Kind = FlagChangeKind.TurnOff,
        Reason = reason,
        ApprovalTicket = ticket,
        User = user,
        RolloutId = plan.RolloutId,
        Rule = plan.Rule,
    };

    /// <summary>
    /// Before raising exposure, the flag must still be where the current stage put it. If someone switched it off (or
    /// changed it) by hand, advancing would silently override that decision: pause and let a person look.
    /// </summary>
    private async Task<RolloutDecision> CheckDriftAsync(RolloutState state, RolloutDecision decision, CancellationToken cancellationToken)
    {
        var current = (await store.GetFlagsAsync(state.Environment, state.Flag, cancellationToken).ConfigureAwait(false))[0];
        if (current.On && current.EffectivePercentage == state.Percentage)
        {
            return decision;
        }

        return new RolloutDecision
        {
            Action = RolloutStepAction.Paused,
            Cause = "drift",
            RemainingBake = TimeSpan.Zero,
            Reason = $"The flag drifted from stage {state.StageNumber}/{state.StageCount}: expected on at {FlagPercentage.Format(state.Percentage ?? 0)}%, the store says {(current.On ? "on" : "off")} at {FlagPercentage.Format(current.EffectivePercentage ?? 0)}%. Paused instead of {decision.Action.ToString().ToLowerInvariant()}: set the flag back to {FlagPercentage.Format(state.Percentage ?? 0)}% and resume, or stop the rollout.",
        };
    }

    private async Task<RolloutStepResult> RollBackOnBreachAsync(RolloutState state, IReadOnlyList<GuardrailResult> tracked, RolloutDecision decision, string user, DateTimeOffset detectedAt)
    {
        // Flag off FIRST: no ledger read or write, no expected head, no cancellation in front of it.
        var mutation = TurnOff(state.Plan, user, $"Automatic rollback of rollout {state.RolloutId}: {decision.Reason}", state.Plan.ApprovalTicket);
        RollbackResult rollback;
        try
        {
            rollback = await new EmergencyRollback(store, audit).RunAsync(mutation, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // EmergencyRollback throws only when the flag is NOT off (it recorded that). Keep the evidence of why it was
            // tried, as one unit; the rollout stays running, so the next Step tries again while the breach lasts.
            Log.Warning($"Rollout {state.RolloutId}: the automatic rollback could not switch the flag off ({ex.Message}).");
            var failedAt = time.GetUtcNow();
            await audit.RecordAsync(tracked.Select(t => EvaluatedEvent(state, t, user, failedAt)).Concat(decision.Culprits.Select(c => BreachedEvent(state, c, "rollback_failed", user, failedAt))).ToArray(), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var detectionToFlagOff = rollback.FlagOffAt is { } off ? off - detectedAt : (TimeSpan?)null;
        Log.Warning($"Rollout {state.RolloutId} rolled back: {decision.Reason}. Flag off {detectionToFlagOff?.TotalMilliseconds:0} ms after detection.");

        // The evidence and the end are one unit; the end is written only if no one (a Stop) ended the rollout first.
        var now = time.GetUtcNow();
        await RecordEndAsync(state.RolloutId, ended =>
        {
            var events = tracked.Select(t => EvaluatedEvent(ended, t, user, now)).Concat(decision.Culprits.Select(c => BreachedEvent(ended, c, "rollback", user, now))).ToList();
            if (ended.IsActive)
            {
                var details = StageDetails(ended, ended.StageIndex);
                details["cause"] = decision.Cause;
                details["percentage_before"] = Percent(ended.Percentage);
                details["measured_at"] = GuardrailJson.Time(tracked.Select(t => t.EvaluatedAt).DefaultIfEmpty(now).Max());
                details["detected_at"] = GuardrailJson.Time(detectedAt);
                details["flag_off_at"] = rollback.FlagOffAt is { } flagOffAt ? GuardrailJson.Time(flagOffAt) : null;
                details["detection_to_flag_off_ms"] = (long?)detectionToFlagOff?.TotalMilliseconds;
                details["time_to_flag_off_ms"] = (long?)rollback.TimeToFlagOff?.TotalMilliseconds;
                details["verified"] = rollback.Verified;
                details["evidence"] = new JArray(decision.Culprits.Select(c => c.ToJson()));
                details["rollback"] = RollbackJson(rollback);
                events.Add(Event(ended.Plan, RolloutEventTypes.RolledBack, user, decision.Reason, ended.Plan.ApprovalTicket, 0, ended.Percentage, "rolled_back", details, now));
            }

            return events;
        }, endOnlyIfActive: false).ConfigureAwait(false);

        var after = await EnsureOffAfterEndAsync(state.RolloutId, user).ConfigureAwait(false);
        return Result(after, RolloutStepAction.RolledBack, decision.Reason, tracked, rollback, detectionToFlagOff, state.Percentage);
    }

    /// <summary>
    /// Records a rollout's end after its flag was switched off, through the decision loop on the rollout's stream: when
    /// a Stop and a breach rollback race, the second folds the first's end and writes no second one. The events are
    /// spooled if the ledger cannot take them: the flag is already off.
    /// </summary>
    private Task<bool> RecordEndAsync(string rolloutId, Func<RolloutState, IReadOnlyList<AuditEvent>> endEvents, bool endOnlyIfActive = true)
        => decisions.RunAsync<RolloutState, bool>(
            LedgerStream.Rollout(rolloutId),
            FoldAsync(rolloutId),
            state =>
            {
                var events = endOnlyIfActive && !state.IsActive ? Array.Empty<AuditEvent>() : endEvents(state);
                return Task.FromResult(events.Count == 0 ? StreamDecision<bool>.Done(false) : StreamDecision<bool>.Append(events, _ => Task.FromResult(true)));
            },
            afterChange: true,
            () => LedgerBusy(rolloutId),
            CancellationToken.None);

    private Func<CancellationToken, Task<(RolloutState, long)>> FoldAsync(string rolloutId)
        => async ct =>
        {
            var state = await LoadAsync(rolloutId, ct).ConfigureAwait(false);
            return (state, state.HeadSequence);
        };

    /// <summary>After an advance: if the rollout ended meanwhile (a rollback raced it), the flag this step just raised goes off again.</summary>
    private async Task<RolloutState> GuardAfterApplyAsync(string rolloutId, string user)
    {
        var after = await LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        return after.Status is RolloutStatus.RolledBack or RolloutStatus.Aborted
            ? await EnsureOffAfterEndAsync(rolloutId, user).ConfigureAwait(false)
            : after;
    }

    /// <summary>
    /// The ender's half of the race with an advancer: after the end is recorded, read the flag and switch it off only if
    /// it is on again (so no redundant write, and no event for a change that did not happen). Its failure is a warning:
    /// the rollout HAS ended and its flag went off.
    /// </summary>
    private async Task<RolloutState> EnsureOffAfterEndAsync(string rolloutId, string user)
    {
        var state = await LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        try
        {
            var current = (await store.GetFlagsAsync(state.Environment, state.Flag, CancellationToken.None).ConfigureAwait(false))[0];
            if (!current.On)
            {
                return state;
            }

            var mutation = TurnOff(state.Plan, user, $"Rollout {rolloutId} has ended ({state.Status}); an advance that raced the end is undone.", state.Plan.ApprovalTicket);
            var result = await store.ApplyAsync(mutation.ToChange(), CancellationToken.None).ConfigureAwait(false);
            Log.Warning($"Rollout {rolloutId}: an advance raced its end and switched the flag on again; it is off again.");
            await audit.RecordAsync(operations.ToggledEvent(mutation, result, new JObject { ["procedure"] = "rollout_end_reassert" }), CancellationToken.None).ConfigureAwait(false);
            return await LoadAsync(rolloutId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Warning($"Rollout {rolloutId} has ended and its flag was switched off, but checking that no racing advance switched it on again failed ({ex.Message}); check the flag.");
            return state;
        }
    }

    private IEnumerable<AuditEvent> DecisionEvents(RolloutState state, RolloutDecision decision, IReadOnlyList<GuardrailResult> tracked, string user, DateTimeOffset now)
    {
        switch (decision.Action)
        {
            case RolloutStepAction.Advanced:
                yield return StageAdvancedEvent(state, state.StageIndex + 1, user, decision.Reason, tracked, "step", now);
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
                    yield return BreachedEvent(state, culprit, "pause", user, now);
                }

                var paused = StageDetails(state, state.StageIndex);
                paused["cause"] = decision.Cause;
                paused["remaining_bake"] = GuardrailJson.Span(state.RemainingBake(now));
                paused["guardrails"] = new JArray(tracked.Select(t => t.Evidence));
                yield return Event(state.Plan, RolloutEventTypes.Paused, user, decision.Reason, state.Plan.ApprovalTicket, state.Percentage, null, "paused", paused, now);
                break;
        }
    }

    private AuditEvent StageAdvancedEvent(RolloutState state, int index, string user, string reason, IReadOnlyList<GuardrailResult> tracked, string trigger, DateTimeOffset now)
    {
        var details = StageDetails(state, index);
        details["previous_stage_index"] = state.StageIndex;
        details["bake_time"] = GuardrailJson.Span(state.BakeTime);
        details["trigger"] = trigger;
        details["guardrails"] = new JArray(tracked.Select(t => t.Evidence));
        return Event(state.Plan, RolloutEventTypes.StageAdvanced, user, reason, state.Plan.ApprovalTicket, state.Stages[index], state.Percentage ?? 0, "advanced", details, now);
    }

    private AuditEvent EvaluatedEvent(RolloutState state, GuardrailResult result, string user, DateTimeOffset now)
    {
        var details = result.ToJson();
        details["stage_index"] = state.StageIndex;
        details["stage_number"] = state.StageNumber;
        return Event(state.Plan, RolloutEventTypes.GuardrailEvaluated, user, result.Evidence, state.Plan.ApprovalTicket, state.Percentage, null, result.Status.ToString().ToLowerInvariant(), details, now);
    }

    private AuditEvent BreachedEvent(RolloutState state, GuardrailResult result, string action, string user, DateTimeOffset now)
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

    private RolloutStepResult Result(RolloutState state, RolloutStepAction action, string reason, IReadOnlyList<GuardrailResult>? guardrails = null, RollbackResult? rollback = null, TimeSpan? detectionToFlagOff = null, decimal? previousPercentage = null, TimeSpan? remaining = null)
    {
        var now = time.GetUtcNow();
        return new RolloutStepResult
        {
            RolloutId = state.RolloutId,
            Flag = state.Flag,
            Environment = state.Environment,
            Action = action,
            Reason = reason,
            Status = state.Status,
            StageNumber = state.StageNumber,
            StageCount = state.StageCount,
            Percentage = state.IsActive || state.Status == RolloutStatus.Completed ? state.Percentage : 0,
            PreviousPercentage = previousPercentage,
            RemainingBake = remaining ?? (state.IsActive ? state.RemainingBake(now) : null),
            Guardrails = guardrails ?? state.LastEvaluations,
            Rollback = rollback,
            DetectionToFlagOff = detectionToFlagOff,
            At = now,
            State = state,
        };
    }

    private async Task FlushSpoolAsync(CancellationToken cancellationToken)
    {
        // Spooled events (a rollback recorded while the ledger was down) must be in the ledger before a fold, or the
        // fold would miss them; if the ledger still refuses, the next append says so.
        await audit.FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
    }

    private static LedgerExpectation Expectation(RolloutState state) => new(LedgerStream.Rollout(state.RolloutId), state.HeadSequence);

    private void EnsureSameStore(RolloutState state)
    {
        if (!IsThisStore(state))
        {
            throw new FlagsException(
                "RolloutStoreMismatch",
                FlagsErrorKind.InvalidOperation,
                $"Rollout {state.RolloutId} runs on {state.Store}; this session's store is {store.Identity}. Connect to the rollout's store to act on it.",
                state.RolloutId);
        }
    }

    // Rollouts started before stores had an identity recorded the display name; they still match their own store.
    private bool IsThisStore(RolloutState state)
        => string.Equals(state.Store, store.Identity, StringComparison.Ordinal) || string.Equals(state.Store, store.Name, StringComparison.Ordinal);

    private static void RequireActive(RolloutState state)
    {
        if (!state.IsActive)
        {
            throw new FlagsException("RolloutNotActive", FlagsErrorKind.InvalidOperation, $"Rollout {state.RolloutId} is {state.Status}; only a running or paused rollout can be suspended, resumed or stopped.", state.RolloutId);
        }
    }

    private static void RequireReason(RolloutActor actor, string rolloutId)
    {
        if (string.IsNullOrWhiteSpace(actor.Reason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "A reason is required; it goes into the audit record.", rolloutId);
        }

        if (string.IsNullOrWhiteSpace(actor.User))
        {
            throw new FlagsException("UserRequired", FlagsErrorKind.InvalidArgument, "The acting user is required; it goes into the audit record.", rolloutId);
        }
    }

    private static FlagsException NoActiveRollout(string flag, string environment)
        => new("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"'{flag}' in '{environment}' has no running or paused rollout.", flag);

    private static FlagsException LedgerBusy(string rolloutId)
        => new("LedgerBusy", FlagsErrorKind.ResourceUnavailable, $"Other writers kept appending to the ledger; rollout {rolloutId} was not changed by this call. Try again.", rolloutId);
}
