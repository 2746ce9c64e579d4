namespace PMS.Flags.Engine.Kubernetes;

/// <summary>One pod of the deployment as <c>kubectl get pods</c> and <c>kubectl top pods</c> show it, plus whether it started after the flags last changed.</summary>
public sealed record PodHealth
{
    public required string Name { get; init; }

    public string Phase { get; init; } = "";

    public bool Ready { get; init; }

    public int Restarts { get; init; }

    /// <summary>When a container of the pod last stopped (lastState.terminated.finishedAt); null if none ever did.</summary>
    public DateTimeOffset? LastRestartAt { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>When its container last started running (or the pod started, if no container runs).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    public TimeSpan? Age { get; init; }

    public string? Node { get; init; }

    public string? ReplicaSet { get; init; }

    /// <summary>Why the container is not running or last stopped: CrashLoopBackOff, OOMKilled, Error, ContainerCreating.</summary>
    public string? Reason { get; init; }

    /// <summary>True when it started after the ConfigMap's last change (it read the current flags); null when the change time is unknown.</summary>
    public bool? StartedAfterConfigChange { get; init; }

    /// <summary>CPU in millicores from metrics.k8s.io; null when the cluster serves no metrics.</summary>
    public decimal? CpuMillicores { get; init; }

    public long? MemoryBytes { get; init; }

    public string MemoryText => MemoryBytes is { } b ? $"{b / (1024 * 1024)}Mi" : "";

    public string CpuText => CpuMillicores is { } c ? $"{decimal.Round(c)}m" : "";

    public override string ToString() => $"{Name} {Phase} ready={Ready} restarts={Restarts}";
}
