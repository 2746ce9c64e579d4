namespace PMS.Flags.Engine.Rollouts;

/// <summary>Tuning for the rollout engine; the defaults suit schedulers stepping every minute or so.</summary>
public sealed class RolloutEngineOptions
{
    public static readonly RolloutEngineOptions Default = new();

    /// <summary>
    /// A stage is decided (rollout_stage_advanced) before its flag change is made; if no feature_flag_toggled follows
    /// within this time, the deciding process is presumed dead and the next Step makes the change itself. Shorter
    /// would let a Step race a slow but live store call.
    /// </summary>
    public TimeSpan StageApplyGrace { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a Step re-reads and re-decides when other writers keep moving the ledger head.</summary>
    public int MaxDecisionAttempts { get; init; } = 8;
}
