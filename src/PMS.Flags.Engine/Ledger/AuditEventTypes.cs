using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Every event type the module writes, in one list: Get-FlagAudit completes -EventType from it and refuses anything
/// else, because a typo in a filter (feature_flag_toggle) would otherwise return nothing and look like a quiet trail.
/// A new event type must be added here.
/// </summary>
public static class AuditEventTypes
{
    public static readonly IReadOnlyList<string> Known = new[]
    {
        FlagOperations.ToggledEventType,
        EmergencyRollback.EventType,
        RolloutEventTypes.Started,
        RolloutEventTypes.StageAdvanced,
        RolloutEventTypes.GuardrailEvaluated,
        RolloutEventTypes.GuardrailBreached,
        RolloutEventTypes.Paused,
        RolloutEventTypes.Resumed,
        RolloutEventTypes.Completed,
        RolloutEventTypes.RolledBack,
        FlagOperations.PropagatedEventType,
        Kubernetes.DeploymentAudit.Restarted,
        Kubernetes.DeploymentAudit.Undone,
        Migrations.MigrationEventTypes.Applied,
        Migrations.MigrationEventTypes.Reverted,
        Migrations.MigrationEventTypes.Stamped,
        Checkpoints.LedgerEventTypes.Repaired,
        Checkpoints.LedgerEventTypes.CheckpointSealed,
        Postgres.LedgerCopy.CopiedEventType,
        Archive.AuditArchive.ArchivedEventType,
        PlannedRollbacks.PlannedRollbackEventTypes.Started,
        PlannedRollbacks.PlannedRollbackEventTypes.Step,
        PlannedRollbacks.PlannedRollbackEventTypes.Completed,
        Readiness.ChecklistEventTypes.Created,
        Readiness.ChecklistEventTypes.ItemApproved,
        Readiness.ChecklistEventTypes.ReadinessOverridden,
        Notifications.NotificationEventTypes.Sent,
        Notifications.NotificationEventTypes.Failed,
    };

    public static bool IsKnown(string eventType) => Known.Contains(eventType, StringComparer.OrdinalIgnoreCase);
}
