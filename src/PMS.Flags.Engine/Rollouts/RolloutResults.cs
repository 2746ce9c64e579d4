using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>Builds what a step, a stop or a rollback reports, from the state folded after it acted.</summary>
internal sealed class RolloutResults
{
    private readonly TimeProvider time;

    public RolloutResults(TimeProvider time) => this.time = time;

    public RolloutStepResult Of(RolloutState state, RolloutStepAction action, string reason, IReadOnlyList<GuardrailResult>? guardrails = null, RollbackResult? rollback = null, TimeSpan? detectionToFlagOff = null, decimal? previousPercentage = null, TimeSpan? remaining = null)
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
}
