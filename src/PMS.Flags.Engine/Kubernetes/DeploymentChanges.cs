using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// Restart and undo as audited changes: the ledger must be writable first, the change is made, the wait (if asked)
/// runs, and the outcome is recorded whatever it was — a rollout that failed is recorded as failed, then reported as a
/// FlagsException with ChangeWasMade, saying what state things were left in.
/// </summary>
public sealed class DeploymentChanges
{
    private readonly DeploymentOperations operations;
    private readonly AuditTrail audit;

    public DeploymentChanges(DeploymentOperations operations, AuditTrail audit)
    {
        this.operations = operations;
        this.audit = audit;
    }

    public async Task<DeploymentRolloutResult> RestartAsync(bool wait, TimeSpan timeout, string user, string? reason, Action<RolloutProgress>? progress, CancellationToken cancellationToken)
    {
        await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        var requestedAt = await operations.RestartAsync(cancellationToken).ConfigureAwait(false);
        audit.Log.Verbose($"Restarted deployment {operations.Target.Namespace}/{operations.Target.Deployment} (kubectl.kubernetes.io/restartedAt).");
        var result = new DeploymentRolloutResult
        {
            Namespace = operations.Target.Namespace,
            Deployment = operations.Target.Deployment,
            Action = "restart",
            RequestedAt = requestedAt,
            Outcome = DeploymentRolloutOutcome.NotWaited,
            Message = "restart requested; not waited for",
        };
        return await FinishAsync(result, wait, timeout, user, reason, progress, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DeploymentRolloutResult> UndoAsync(long toRevision, bool wait, TimeSpan timeout, string user, string? reason, Action<RolloutProgress>? progress, CancellationToken cancellationToken)
    {
        await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        var result = await operations.UndoAsync(toRevision, dryRun: false, cancellationToken).ConfigureAwait(false);
        audit.Log.Verbose($"Deployment {result.Namespace}/{result.Deployment}: {result.Message}.");
        return await FinishAsync(result, wait, timeout, user, reason, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DeploymentRolloutResult> FinishAsync(DeploymentRolloutResult result, bool wait, TimeSpan timeout, string user, string? reason, Action<RolloutProgress>? progress, CancellationToken cancellationToken)
    {
        if (wait)
        {
            try
            {
                var (reading, outcome, at) = await operations.WaitAsync(timeout, progress, cancellationToken).ConfigureAwait(false);
                var revision = reading.Snapshot.Revision;
                result = result with
                {
                    Outcome = outcome,
                    PodsReadyAt = outcome == DeploymentRolloutOutcome.Complete ? at : null,
                    ToRevision = result.ToRevision ?? revision,
                    Message = outcome switch
                    {
                        DeploymentRolloutOutcome.Complete => reading.Message,
                        DeploymentRolloutOutcome.ProgressDeadlineExceeded => $"{reading.Message}: the new pods did not become ready (crash-looping or failing probes); the old pods keep serving",
                        _ => $"not finished within {timeout}: {reading.Message}",
                    },
                };
            }
            catch (FlagsException ex)
            {
                result = result with { Outcome = DeploymentRolloutOutcome.TimedOut, Message = $"the change was made, but its progress could not be read: {ex.Message}" };
            }
        }

        await DeploymentAudit.RecordAsync(audit, result, user, reason, CancellationToken.None).ConfigureAwait(false);
        return result.Outcome switch
        {
            DeploymentRolloutOutcome.ProgressDeadlineExceeded => throw new FlagsException(KubernetesErrorIds.ProgressDeadlineExceeded, FlagsErrorKind.OperationTimeout, $"Deployment {result.Namespace}/{result.Deployment} was {(result.Action == "undo" ? "rolled back" : "restarted")} at {result.RequestedAt:u}, but {result.Message}. Inspect with Get-PmsDeploymentHealth and Get-PmsLog; Undo-PmsDeployment returns to the previous template.", result) { ChangeWasMade = true },
            DeploymentRolloutOutcome.TimedOut => throw new FlagsException(KubernetesErrorIds.RolloutTimeout, FlagsErrorKind.OperationTimeout, $"Deployment {result.Namespace}/{result.Deployment} was {(result.Action == "undo" ? "rolled back" : "restarted")} at {result.RequestedAt:u}, but the rollout is {result.Message}. It continues in the cluster; watch it with Get-PmsDeploymentHealth.", result) { ChangeWasMade = true },
            _ => result,
        };
    }
}
