namespace PMS.Flags.Engine.Rollouts;

/// <summary>The one thing a Step did (schedulers and CI branch on it).</summary>
public enum RolloutStepAction
{
    /// <summary>Moved to the next stage (or applied a stage an interrupted step had decided).</summary>
    Advanced,

    /// <summary>The last stage baked with every guardrail healthy: the rollout is done.</summary>
    Completed,

    /// <summary>Nothing to do yet: bake time remains, or a guardrail is pending.</summary>
    Waiting,

    /// <summary>Paused the rollout: a warning breach, no data, or the flag drifted from the stage.</summary>
    Paused,

    /// <summary>A critical breach switched the flag off and ended the rollout.</summary>
    RolledBack,

    /// <summary>The rollout is paused or over, or another process acted first.</summary>
    NoAction,
}
