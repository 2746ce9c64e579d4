namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>The stable ErrorIds of Invoke-PlannedRollback (the refusals before anything runs reuse the migration and flag ids).</summary>
public static class PlannedRollbackErrorIds
{
    /// <summary>A step failed; the sequence stopped there, and the message says what state things were left in.</summary>
    public const string StepFailed = "PlannedRollbackStepFailed";

    /// <summary>-StabilizeFor is negative.</summary>
    public const string StabilizeInvalid = "PlannedRollbackStabilizeInvalid";

    /// <summary>The health check after the rollback found the deployment or -HealthUri unhealthy.</summary>
    public const string Unhealthy = "PlannedRollbackUnhealthy";

    /// <summary>Other writers kept appending to the rollback's stream; nothing was decided.</summary>
    public const string LedgerBusy = "PlannedRollbackLedgerBusy";
}
