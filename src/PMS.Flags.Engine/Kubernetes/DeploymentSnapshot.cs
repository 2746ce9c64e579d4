namespace PMS.Flags.Engine.Kubernetes;

/// <summary>The parts of a Deployment that decide whether its rollout is done, as <c>kubectl rollout status</c> reads them.</summary>
public sealed record DeploymentSnapshot
{
    public long Generation { get; init; }

    public long ObservedGeneration { get; init; }

    public int SpecReplicas { get; init; } = 1;

    public int Replicas { get; init; }

    public int UpdatedReplicas { get; init; }

    public int ReadyReplicas { get; init; }

    public int AvailableReplicas { get; init; }

    /// <summary>The Progressing condition's reason (NewReplicaSetAvailable, ReplicaSetUpdated, ProgressDeadlineExceeded).</summary>
    public string? ProgressingReason { get; init; }

    public string? ProgressingMessage { get; init; }

    public int? Revision { get; init; }
}
