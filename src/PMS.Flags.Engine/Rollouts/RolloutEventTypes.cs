namespace PMS.Flags.Engine.Rollouts;

/// <summary>The ledger event types a rollout is folded from (besides feature_flag_toggled and emergency_rollback carrying its rollout_id).</summary>
public static class RolloutEventTypes
{
    public const string Started = "rollout_started";
    public const string StageAdvanced = "rollout_stage_advanced";
    public const string GuardrailEvaluated = "guardrail_evaluated";
    public const string GuardrailBreached = "guardrail_breached";
    public const string Paused = "rollout_paused";
    public const string Resumed = "rollout_resumed";
    public const string Completed = "rollout_completed";
    public const string RolledBack = "rollout_rolled_back";

    /// <summary>The events that open or close a rollout: enough to find the active one of a flag without folding all.</summary>
    public static readonly IReadOnlyCollection<string> Lifecycle = new[] { Started, Completed, RolledBack };
}
