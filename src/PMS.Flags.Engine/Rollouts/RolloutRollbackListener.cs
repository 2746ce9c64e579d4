using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Ends the active rollout of a flag when an emergency rollback (Invoke-EmergencyRollback) switches the flag off:
/// otherwise the next Step would see a running rollout, find the flag "drifted" and a person might resume it — turning
/// the flag back on after an incident. Lives in the engine so the cmdlet only passes it along.
/// </summary>
internal sealed class RolloutRollbackListener : IEmergencyRollbackListener
{
    private readonly RolloutEngine engine;

    public RolloutRollbackListener(RolloutEngine engine) => this.engine = engine;

    public Task<IReadOnlyList<string>> FlagSwitchedOffAsync(FlagMutation request, RollbackResult result, CancellationToken cancellationToken)
        => engine.EndAfterEmergencyRollbackAsync(request, result, cancellationToken);
}
