using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// The one place that writes deployment events to the audit ledger (<c>deployment_restarted</c>,
/// <c>deployment_undone</c>), so a change of the ledger API touches only this method.
/// </summary>
public static class DeploymentAudit
{
    public const string Restarted = "deployment_restarted";
    public const string Undone = "deployment_undone";

    public static Task<AuditRecord> RecordAsync(AuditTrail audit, DeploymentRolloutResult result, string user, string? reason, CancellationToken cancellationToken)
    {
        var details = new JObject
        {
            ["namespace"] = result.Namespace,
            ["deployment"] = result.Deployment,
            ["requested_at"] = result.RequestedAt.UtcDateTime.ToString("O"),
            ["pods_ready_at"] = result.PodsReadyAt?.UtcDateTime.ToString("O"),
            ["from_revision"] = result.FromRevision,
            ["to_revision"] = result.ToRevision,
            ["replica_set"] = result.ReplicaSet,
            ["message"] = result.Message,
        };
        return audit.RecordAsync(
            new AuditEvent
            {
                Timestamp = result.RequestedAt,
                EventType = result.Action == "undo" ? Undone : Restarted,
                UserId = user,
                Reason = reason,
                Store = $"Kubernetes:{result.Namespace}/{result.Deployment}",
                Outcome = result.Outcome.ToString(),
                Details = details.ToString(Formatting.None),
            },
            cancellationToken);
    }
}
