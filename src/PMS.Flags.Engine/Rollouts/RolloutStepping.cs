using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Steps rollouts: measures the guardrails, decides through <see cref="RolloutDecider"/>, records the evidence and the
/// decision as one unit on the rollout's stream, and raises exposure. Raising exposure is decided first and done
/// second: rollout_stage_advanced is appended at the stream's head (the claim; a loser conflicts, folds again and sees
/// the stage taken), then the flag is set to the stage's absolute percentage through <see cref="FlagOperations"/>,
/// whose feature_flag_toggled marks the stage applied and starts its bake. A process that dies between the two leaves
/// a claimed, unapplied stage that the next Step applies once <see cref="RolloutEngineOptions.StageApplyGrace"/> has
/// passed (an absolute target, so applying it twice is harmless).
/// </summary>
internal sealed class RolloutStepping
{
    private readonly RolloutContext context;
    private readonly GuardrailFactory guardrailFactory;
    private readonly RolloutEnding ending;

    public RolloutStepping(RolloutContext context, GuardrailFactory guardrails, RolloutEnding ending)
    {
        this.context = context;
        guardrailFactory = guardrails;
        this.ending = ending;
    }

    private RolloutReader Reader => context.Reader;

    private RolloutEvents Events => context.Events;

    private RolloutResults Results => context.Results;

    /// <summary>
    /// Does at most one thing and says which: roll back (critical breach), pause (warning breach, no data, drift),
    /// advance or complete (bake time over, every guardrail healthy), or wait. Every guardrail evaluation is recorded.
    /// Idempotent: calling it again changes nothing until time passes or the metrics change.
    /// </summary>
    public async Task<RolloutStepResult> StepAsync(string rolloutId, string? user, CancellationToken cancellationToken)
    {
        var actingUser = UserIdentity.Resolve(user);

        // Spooled events go into the ledger before the fold; those the ledger still refuses are folded from the spool.
        await Reader.FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
        var state = await Reader.LoadAsync(rolloutId, cancellationToken).ConfigureAwait(false);
        Reader.EnsureSameStore(state);
        if (!state.IsActive)
        {
            return Results.Of(state, RolloutStepAction.NoAction, $"The rollout is {state.Status} ({state.EndCause}: {state.EndReason}); nothing to do.");
        }

        if (state.Status == RolloutStatus.Running && !state.StageApplied)
        {
            return await ContinueStageAsync(state, actingUser, cancellationToken).ConfigureAwait(false);
        }

        context.Log.Verbose($"Rollout {rolloutId}: {state.Status} at stage {state.StageNumber}/{state.StageCount}; evaluating {state.Plan.Guardrails.Count} guardrail(s).");
        var measured = await MeasureAsync(state.Plan, GuardrailContext.ForStage(state.StageEnteredAt, state.BakeDueAt, state.Percentage), cancellationToken).ConfigureAwait(false);
        var detectedAt = DateTimeOffset.UtcNow;
        foreach (var result in measured)
        {
            context.Log.Verbose(result.Evidence);
        }

        var first = state;
        var folded = 0;
        return await context.Decisions.RunAsync<RolloutState, RolloutStepResult>(
            LedgerStream.Rollout(rolloutId),
            async ct =>
            {
                // The first attempt decides on the state already folded above; a retry after a conflict folds again.
                var fresh = folded++ == 0 ? first : await Reader.LoadAsync(rolloutId, ct).ConfigureAwait(false);
                return (fresh, fresh.HeadSequence);
            },
            fresh => DecideAsync(first, fresh, measured, actingUser, detectedAt, cancellationToken),
            afterChange: false,
            () => RolloutRefusals.LedgerBusy(rolloutId),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Claims stage 1 and sets its percentage, unless another process claimed it first; true when this call did.</summary>
    public async Task<bool> ClaimAndApplyFirstStageAsync(RolloutState state, string user, string trigger, CancellationToken cancellationToken)
        => await context.Decisions.RunAsync<RolloutState, bool>(
            LedgerStream.Rollout(state.RolloutId),
            Reader.Fold(state.RolloutId),
            fresh =>
            {
                if (fresh.StageIndex >= 0 || !fresh.IsActive)
                {
                    return Task.FromResult(StreamDecision<bool>.Done(false));
                }

                var draft = Events.StageAdvanced(fresh, 0, user, $"Rollout {fresh.RolloutId} enters stage 1/{fresh.StageCount} ({FlagPercentage.Format(fresh.Stages[0])}%).", Array.Empty<GuardrailResult>(), trigger, context.Time.GetUtcNow());
                return Task.FromResult(StreamDecision<bool>.Append(new[] { draft }, async _ =>
                {
                    await ApplyStageAsync(fresh.Plan, 0, user, CancellationToken.None).ConfigureAwait(false);
                    await ending.GuardAfterApplyAsync(fresh.RolloutId, user).ConfigureAwait(false);
                    return true;
                }));
            },
            afterChange: false,
            () => RolloutRefusals.LedgerBusy(state.RolloutId),
            cancellationToken).ConfigureAwait(false);

    private async Task<StreamDecision<RolloutStepResult>> DecideAsync(RolloutState first, RolloutState fresh, IReadOnlyList<GuardrailResult> measured, string user, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        if (fresh.Status != first.Status || fresh.StageIndex != first.StageIndex || fresh.StageApplied != first.StageApplied)
        {
            // Someone else decided in the meantime; this measurement belongs to the state before their decision.
            return StreamDecision<RolloutStepResult>.Done(Results.Of(fresh, RolloutStepAction.NoAction, $"Another process acted on this rollout while this step was deciding; it is now {fresh.Status} at stage {fresh.StageNumber}/{fresh.StageCount}. Nothing done."));
        }

        var now = context.Time.GetUtcNow();
        var tracked = measured.Select(m => ForDurationTracker.Track(m, fresh.ActiveSince(m.Guardrail))).ToArray();
        var decision = RolloutDecider.Decide(fresh, tracked, now);
        if (decision.Action == RolloutStepAction.RolledBack)
        {
            return StreamDecision<RolloutStepResult>.Done(await ending.RollBackOnBreachAsync(fresh, tracked, decision, user, detectedAt).ConfigureAwait(false));
        }

        if (decision.Action is RolloutStepAction.Advanced or RolloutStepAction.Completed)
        {
            decision = await CheckDriftAsync(fresh, decision, cancellationToken).ConfigureAwait(false);
        }

        context.Log.Verbose($"Rollout {fresh.RolloutId}: {decision.Action} — {decision.Reason}");

        // Evaluations and the decision are one unit: all recorded, or none and decided again.
        var drafts = tracked.Select(t => Events.Evaluated(fresh, t, user, now)).Concat(Events.Decision(fresh, decision, tracked, user, now)).ToArray();
        return StreamDecision<RolloutStepResult>.Append(drafts, async _ =>
        {
            if (decision.Action == RolloutStepAction.Advanced)
            {
                // The claim is recorded: from here a Ctrl+C must not leave the stage decided but not made.
                await ApplyStageAsync(fresh.Plan, fresh.StageIndex + 1, user, CancellationToken.None).ConfigureAwait(false);
                var advanced = await ending.GuardAfterApplyAsync(fresh.RolloutId, user).ConfigureAwait(false);
                return Results.Of(advanced, decision.Action, decision.Reason, tracked, previousPercentage: fresh.Percentage);
            }

            var after = await Reader.LoadAsync(fresh.RolloutId, cancellationToken).ConfigureAwait(false);
            return Results.Of(after, decision.Action, decision.Reason, tracked, remaining: decision.Action is RolloutStepAction.Waiting or RolloutStepAction.Paused or RolloutStepAction.NoAction ? decision.RemainingBake : null);
        });
    }

    /// <summary>A running rollout whose current stage is not applied: claim stage 1 if nothing was, or finish an interrupted change.</summary>
    private async Task<RolloutStepResult> ContinueStageAsync(RolloutState state, string user, CancellationToken cancellationToken)
    {
        if (state.StageIndex < 0)
        {
            var claimed = await ClaimAndApplyFirstStageAsync(state, user, "recovery", cancellationToken).ConfigureAwait(false);
            var fresh = await Reader.LoadAsync(state.RolloutId, cancellationToken).ConfigureAwait(false);
            return claimed
                ? Results.Of(fresh, RolloutStepAction.Advanced, $"Entered stage 1/{fresh.StageCount} ({FlagPercentage.Format(fresh.Stages[0])}%): the start had been interrupted before its first stage.", previousPercentage: 0)
                : Results.Of(fresh, RolloutStepAction.NoAction, "Another process entered the first stage at the same time; nothing done.");
        }

        var now = context.Time.GetUtcNow();
        var claimedAt = state.StageClaimedAt ?? state.StartedAt;
        if (now - claimedAt < context.Options.StageApplyGrace)
        {
            return Results.Of(state, RolloutStepAction.Waiting, $"Stage {state.StageNumber}/{state.StageCount} was decided at {claimedAt:u}; its flag change is presumably under way in another process. If it is not recorded by {claimedAt + context.Options.StageApplyGrace:u}, the next Step makes it.", remaining: state.BakeTime);
        }

        await ApplyStageAsync(state.Plan, state.StageIndex, user, cancellationToken).ConfigureAwait(false);
        var after = await ending.GuardAfterApplyAsync(state.RolloutId, user).ConfigureAwait(false);
        return Results.Of(after, RolloutStepAction.Advanced, $"Applied stage {state.StageNumber}/{state.StageCount} ({FlagPercentage.Format(state.Percentage ?? 0)}%), decided at {claimedAt:u} by a step that did not finish; its bake time starts now.");
    }

    private async Task<IReadOnlyList<GuardrailResult>> MeasureAsync(RolloutPlan plan, GuardrailContext guardrailContext, CancellationToken cancellationToken)
    {
        var tasks = plan.Guardrails.Select(async definition =>
        {
            try
            {
                return await guardrailFactory.Create(definition).EvaluateAsync(guardrailContext, cancellationToken).ConfigureAwait(false);
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
                    EvaluatedAt = context.Time.GetUtcNow(),
                    Reason = ex.Message,
                };
            }
        }).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>
    /// Before raising exposure, the flag must still be where the current stage put it. If someone switched it off (or
    /// changed it) by hand, advancing would silently override that decision: pause and let a person look.
    /// </summary>
    private async Task<RolloutDecision> CheckDriftAsync(RolloutState state, RolloutDecision decision, CancellationToken cancellationToken)
    {
        var current = (await context.Store.GetFlagsAsync(state.Environment, state.Flag, cancellationToken).ConfigureAwait(false))[0];
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

    private Task<FlagChangeRecord> ApplyStageAsync(RolloutPlan plan, int index, string user, CancellationToken cancellationToken)
        => context.Operations.ChangeAsync(RolloutMutations.Stage(plan, index, user), cancellationToken);
}
