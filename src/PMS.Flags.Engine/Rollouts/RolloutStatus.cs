namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Running and Paused are active (one active rollout per flag and environment). Completed left the flag at the last
/// stage; RolledBack (a guardrail or an emergency rollback) and Aborted (Stop) left it off.
/// </summary>
public enum RolloutStatus
{
    Running,
    Paused,
    Completed,
    RolledBack,
    Aborted,
}
