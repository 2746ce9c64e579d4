using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>What one Step (or Stop) did and why: the action, the stage, the remaining bake time, the guardrail values.</summary>
public sealed class RolloutStepResult
{
    public required string RolloutId { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public RolloutStepAction Action { get; init; }

    /// <summary>Why, in a sentence with the numbers in it.</summary>
    public required string Reason { get; init; }

    /// <summary>The rollout's status after the step.</summary>
    public RolloutStatus Status { get; init; }

    public int StageNumber { get; init; }

    public int StageCount { get; init; }

    /// <summary>The stage percentage after the step (0 after a rollback).</summary>
    public decimal? Percentage { get; init; }

    public decimal? PreviousPercentage { get; init; }

    public TimeSpan? RemainingBake { get; init; }

    /// <summary>The guardrails as this step measured them (For tracking applied).</summary>
    public IReadOnlyList<GuardrailResult> Guardrails { get; init; } = Array.Empty<GuardrailResult>();

    public RollbackResult? Rollback { get; init; }

    /// <summary>After a guardrail rollback: from the moment the breach was established to the flag being off.</summary>
    public TimeSpan? DetectionToFlagOff { get; init; }

    public DateTimeOffset At { get; init; }

    public required RolloutState State { get; init; }

    public override string ToString()
        => $"{RolloutId}: {Action} — {Reason}{(Percentage is { } p ? $" [{FlagPercentage.Format(p)}%]" : "")}";
}
