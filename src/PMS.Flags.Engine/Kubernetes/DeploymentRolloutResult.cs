namespace PMS.Flags.Engine.Kubernetes;

/// <summary>What a restart or undo did and, when waited for, how the rollout ended.</summary>
public sealed record DeploymentRolloutResult
{
    public required string Namespace { get; init; }

    public required string Deployment { get; init; }

    /// <summary>"restart" or "undo".</summary>
    public required string Action { get; init; }

    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>When every pod of the new revision was ready (null unless waited and complete).</summary>
    public DateTimeOffset? PodsReadyAt { get; init; }

    public DeploymentRolloutOutcome Outcome { get; init; }

    public long? FromRevision { get; init; }

    public long? ToRevision { get; init; }

    /// <summary>Undo: the ReplicaSet whose template was restored.</summary>
    public string? ReplicaSet { get; init; }

    public string Message { get; init; } = "";

    public TimeSpan? Duration => PodsReadyAt is { } ready ? ready - RequestedAt : null;

    public override string ToString() => $"{Action} {Namespace}/{Deployment}: {Outcome} — {Message}";
}
