namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>
/// What the stand-in's "kubelet" knows about one pod beyond its JSON: when it becomes ready, whether it crash-loops,
/// the flag document its process read when it started (and keeps serving until it is replaced), and its log.
/// </summary>
public sealed class SimulatedPod
{
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public required string ReplicaSet { get; init; }

    public required string Container { get; init; }

    public required string Node { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the container starts (and, unless crash-looping, becomes ready).</summary>
    public DateTimeOffset StartsAt { get; init; }

    public bool CrashLoop { get; init; }

    /// <summary>"Error" or "OOMKilled": how a crash-looping container's last run ended.</summary>
    public string CrashReason { get; init; } = "Error";

    public bool Started { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public bool Ready { get; set; }

    public int RestartCount { get; set; }

    public DateTimeOffset? LastRestartAt { get; set; }

    /// <summary>The ConfigMap's document as this pod's process read it at start; null before it started.</summary>
    public string? LoadedDocument { get; set; }

    /// <summary>The ConfigMap's resourceVersion the process read.</summary>
    public string? LoadedResourceVersion { get; set; }

    public List<(DateTimeOffset Time, string Line)> Log { get; } = new();

    public void Write(DateTimeOffset time, string line)
    {
        lock (Log)
        {
            Log.Add((time, line));
        }
    }
}
