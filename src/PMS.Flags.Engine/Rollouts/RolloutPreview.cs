using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// What Start-FlagRollout -WhatIf shows: the timeline, its minimum total duration (every stage baked once, no pause),
/// the flag as it is now, and each guardrail's current value against its threshold.
/// </summary>
public sealed class RolloutPreview
{
    public required string RolloutId { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required IReadOnlyList<RolloutPreviewStage> Stages { get; init; }

    public TimeSpan MinimumTotalDuration { get; init; }

    public IReadOnlyList<GuardrailDefinition> Guardrails { get; init; } = Array.Empty<GuardrailDefinition>();

    /// <summary>The guardrails evaluated now (empty when the preview was made without evaluating them).</summary>
    public IReadOnlyList<GuardrailResult> GuardrailResults { get; init; } = Array.Empty<GuardrailResult>();

    /// <summary>
    /// The longest For among critical guardrails: after a breach becomes visible, the rollback follows within this
    /// plus one Step interval.
    /// </summary>
    public TimeSpan CriticalBreachHold => Guardrails.Where(g => g.Severity == GuardrailSeverity.Critical).Select(g => g.For).DefaultIfEmpty(TimeSpan.Zero).Max();

    public FlagState? Current { get; init; }

    public override string ToString() => $"{Flag} [{Environment}] {string.Join(" -> ", Stages.Select(s => FlagPercentage.Format(s.Percentage) + "%"))}, at least {MinimumTotalDuration}";
}
