using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>One stage of a rollout's -WhatIf timeline; offsets count from the start, assuming every guardrail stays healthy.</summary>
public sealed class RolloutPreviewStage
{
    public int Number { get; init; }

    public decimal Percentage { get; init; }

    public TimeSpan EarliestStart { get; init; }

    public TimeSpan BakeTime { get; init; }

    public TimeSpan EarliestEnd => EarliestStart + BakeTime;

    public override string ToString() => $"stage {Number}: {FlagPercentage.Format(Percentage)}% at +{EarliestStart}";
}
