using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Rollbacks;

/// <summary>
/// Told after an emergency rollback has switched a flag off and recorded it, so that state depending on that flag ends
/// with it: an active progressive rollout of the flag must not go on as if nothing happened (the rollout engine's
/// <c>RolloutEngine.EmergencyRollbackListener</c> records it as rolled back). It runs after the flag is off, so nothing
/// it does can delay or undo the rollback.
/// </summary>
public interface IEmergencyRollbackListener
{
    /// <summary>Returns what it ended (rollout ids), for the rollback's result; throws only for a real failure, which is logged as a warning.</summary>
    Task<IReadOnlyList<string>> FlagSwitchedOffAsync(FlagMutation request, RollbackResult result, CancellationToken cancellationToken);
}
