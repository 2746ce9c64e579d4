using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>What a planned rollback is asked to do; the optional steps are delegates so this folder needs no Kubernetes types.</summary>
public sealed class PlannedRollbackRequest
{
    public required FlagMutation FlagOff { get; init; }

    public TimeSpan StabilizeFor { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>What alembic is asked to downgrade to for a new run (-1, a revision, base); a resumed run keeps its recorded target.</summary>
    public string MigrationTarget { get; init; } = "-1";

    public bool AllowDataLoss { get; init; }

    /// <summary>Undo-PmsDeployment, if asked for: returns what it did, or throws.</summary>
    public Func<CancellationToken, Task<string>>? UndoDeployment { get; init; }

    public string? UndoDeploymentDescription { get; init; }

    /// <summary>The health checks, if any: returns what they found healthy, or throws.</summary>
    public Func<CancellationToken, Task<string>>? HealthCheck { get; init; }

    public string? HealthCheckDescription { get; init; }

    /// <summary>Progress of the stabilization wait: (message, percent complete).</summary>
    public Action<string, int>? Progress { get; init; }
}
