namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// What a rollout knows at an evaluation that a guardrail may use: when the current stage reached users and when its
/// bake ends. Threshold guardrails ignore it. A cohort guardrail counts requests from the stage's start (so its
/// sequential test sees one growing sample per stage, as it must) and, while the bake still runs, waits for its minimum
/// samples instead of reporting no data.
/// </summary>
public sealed record GuardrailContext
{
    /// <summary>No rollout: a standalone evaluation (Test-FlagGuardrail) or the check before a rollout starts.</summary>
    public static GuardrailContext None { get; } = new();

    /// <summary>When the current stage's flag change was recorded; null outside a stage.</summary>
    public DateTimeOffset? StageEnteredAt { get; init; }

    /// <summary>When the current stage's bake ends; null while paused or outside a stage.</summary>
    public DateTimeOffset? BakeDueAt { get; init; }

    /// <summary>The current stage's exposure in percent; at 100 there is no unexposed cohort left to compare with.</summary>
    public decimal? StagePercentage { get; init; }

    /// <summary>True inside a rollout stage: a fault found in an answer then makes the guardrail blind (Error) instead of throwing.</summary>
    public bool InStage => StageEnteredAt is not null;

    /// <summary>The check before a rollout starts, with the flag's exposure at that moment (0 when nothing is exposed yet).</summary>
    public static GuardrailContext BeforeRollout(decimal? exposure) => new() { StagePercentage = exposure };

    public static GuardrailContext ForStage(DateTimeOffset? stageEnteredAt, DateTimeOffset? bakeDueAt, decimal? stagePercentage = null)
        => new() { StageEnteredAt = stageEnteredAt, BakeDueAt = bakeDueAt, StagePercentage = stagePercentage };
}
