using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// The rules of a Step, in order of precedence, as one pure function so that a Step that lost a race can simply decide
/// again on the re-read state:
/// 1. a critical guardrail breached (or blind under NoData Fail) rolls back — also while paused, because users are
///    still exposed at the current stage;
/// 2. a paused rollout otherwise stays paused (a person resumes it);
/// 3. a warning guardrail breached (or blind under Fail) pauses;
/// 4. a blind guardrail pauses under the Pause policy, and an unreachable source pauses even under Pass;
/// 5. a pending guardrail (condition true, For not yet reached) waits;
/// 6. remaining bake time waits;
/// 7. otherwise advance, or complete after the last stage.
/// </summary>
internal static class RolloutDecider
{
    public static RolloutDecision Decide(RolloutState state, IReadOnlyList<GuardrailResult> results, DateTimeOffset now)
    {
        var stage = $"stage {state.StageNumber}/{state.StageCount} ({FlagPercentage.Format(state.Percentage ?? 0)}%)";
        var critical = results.Where(r => r.Severity == GuardrailSeverity.Critical && CountsAsBreach(r)).ToArray();
        if (critical.Length > 0)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.RolledBack,
                Cause = critical.Any(r => r.Status == GuardrailStatus.Breached) ? "guardrail_breach" : "no_data",
                Culprits = critical,
                Reason = $"Critical guardrail at {stage}: {string.Join(" | ", critical.Select(Describe))}",
            };
        }

        var remaining = state.RemainingBake(now);
        if (state.Status == RolloutStatus.Paused)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.NoAction,
                RemainingBake = remaining,
                Reason = $"Paused at {stage} since {state.PausedAt:u} ({state.PauseCause}: {state.PauseReason}); Resume-FlagRollout continues with {GuardrailResult.Duration(remaining)} of bake time left.",
            };
        }

        var warnings = results.Where(r => r.Severity == GuardrailSeverity.Warning && CountsAsBreach(r)).ToArray();
        if (warnings.Length > 0)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.Paused,
                Cause = warnings.Any(r => r.Status == GuardrailStatus.Breached) ? "guardrail_breach" : "no_data",
                Culprits = warnings,
                RemainingBake = remaining,
                Reason = $"Warning guardrail at {stage}: {string.Join(" | ", warnings.Select(Describe))}",
            };
        }

        var blind = results.Where(r => (r.Status == GuardrailStatus.NoData && r.NoData == NoDataPolicy.Pause) || (r.Status == GuardrailStatus.Error && r.NoData != NoDataPolicy.Fail)).ToArray();
        if (blind.Length > 0)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.Paused,
                Cause = "no_data",
                Culprits = blind,
                RemainingBake = remaining,
                Reason = $"No data at {stage}, so no advance: {string.Join(" | ", blind.Select(Describe))}",
            };
        }

        var passed = results.Where(r => r.Status == GuardrailStatus.NoData).Select(r => $"{r.Guardrail}: no data, passed by policy ({r.Reason})").ToArray();
        var passedText = passed.Length == 0 ? "" : $" ({string.Join("; ", passed)})";
        var pending = results.Where(r => r.Status == GuardrailStatus.Pending).ToArray();
        if (pending.Length > 0)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.Waiting,
                RemainingBake = remaining,
                Reason = $"Holding {stage}: {string.Join(" | ", pending.Select(Describe))}",
            };
        }

        var healthy = results.Count == 0 ? "no guardrails" : $"{results.Count} guardrail(s) healthy{passedText}";
        if (remaining > TimeSpan.Zero)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.Waiting,
                RemainingBake = remaining,
                Reason = $"Baking {stage}: {GuardrailResult.Duration(remaining)} left; {healthy}.",
            };
        }

        if (state.IsLastStage)
        {
            return new RolloutDecision
            {
                Action = RolloutStepAction.Completed,
                Reason = $"Completed: {stage} baked {GuardrailResult.Duration(state.BakeTime)}; {healthy}.",
            };
        }

        var next = state.Stages[state.StageIndex + 1];
        return new RolloutDecision
        {
            Action = RolloutStepAction.Advanced,
            Reason = $"Advancing to stage {state.StageNumber + 1}/{state.StageCount} ({FlagPercentage.Format(next)}%): {stage} baked {GuardrailResult.Duration(state.BakeTime)}; {healthy}.",
        };
    }

    /// <summary>Breached, or unable to judge under NoData Fail (then blindness counts as the guardrail's breach).</summary>
    private static bool CountsAsBreach(GuardrailResult r)
        => r.Status == GuardrailStatus.Breached || (r.Status is (GuardrailStatus.NoData or GuardrailStatus.Error) && r.NoData == NoDataPolicy.Fail);

    private static string Describe(GuardrailResult r) => r.Evidence;
}
