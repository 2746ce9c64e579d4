namespace PMS.Flags.Engine.Kubernetes;

/// <summary>Store state, what the pods report, which pods predate the change, and the verdict with its fix.</summary>
public sealed record PropagationReport
{
    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public FlagValue? StoreValue { get; init; }

    public DateTimeOffset? ConfigMapChangedAt { get; init; }

    public IReadOnlyList<PodFlagReport> Pods { get; init; } = Array.Empty<PodFlagReport>();

    public PropagationVerdict Verdict { get; init; }

    public string Recommendation { get; init; } = "";

    /// <summary>Why the status endpoint could not be read, if it could not.</summary>
    public string? StatusError { get; init; }

    public int StalePods => Pods.Count(p => p.StartedAfterConfigChange == false);

    public int MismatchedPods => Pods.Count(p => p.Matches == false);

    public override string ToString() => $"{Flag} [{Environment}] {Verdict}: {Recommendation}";
}
