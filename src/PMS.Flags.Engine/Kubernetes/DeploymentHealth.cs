namespace PMS.Flags.Engine.Kubernetes;

/// <summary>Everything the playbook's health checks look at, in one object: the deployment, its pods, their events and metrics, and the health endpoint.</summary>
public sealed record DeploymentHealth
{
    public required string Namespace { get; init; }

    public required string Deployment { get; init; }

    public required DeploymentSnapshot Status { get; init; }

    /// <summary>"Available=True (MinimumReplicasAvailable)", "Progressing=True (NewReplicaSetAvailable)", …</summary>
    public IReadOnlyList<string> Conditions { get; init; } = Array.Empty<string>();

    public IReadOnlyList<PodHealth> Pods { get; init; } = Array.Empty<PodHealth>();

    public IReadOnlyList<ClusterEvent> Events { get; init; } = Array.Empty<ClusterEvent>();

    public EndpointProbe? Endpoint { get; init; }

    /// <summary>When the flag ConfigMap last changed (PMS.Flags' annotation, else the API server's managedFields); null if unknown.</summary>
    public DateTimeOffset? ConfigMapChangedAt { get; init; }

    public bool MetricsAvailable { get; init; }

    public RolloutProgress Rollout { get; init; } = null!;

    public int DesiredReplicas => Status.SpecReplicas;

    public int ReadyReplicas => Status.ReadyReplicas;

    public int UpdatedReplicas => Status.UpdatedReplicas;

    public int AvailableReplicas => Status.AvailableReplicas;

    public int Restarts => Pods.Sum(p => p.Restarts);

    /// <summary>Pods that started before the flags last changed: they still serve the old values.</summary>
    public int StalePods => Pods.Count(p => p.StartedAfterConfigChange == false);

    /// <summary>Every desired pod ready and rolled out, no crash-looping container, and the endpoint (if probed) answering 2xx.</summary>
    public bool Healthy => Rollout.Done && Pods.All(p => p.Ready) && Pods.Count >= Status.SpecReplicas && (Endpoint?.Healthy ?? true);

    public override string ToString() => $"{Namespace}/{Deployment}: {(Healthy ? "healthy" : "unhealthy")}, {ReadyReplicas}/{DesiredReplicas} ready — {Rollout.Message}";
}
