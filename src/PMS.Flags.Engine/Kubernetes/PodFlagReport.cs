namespace PMS.Flags.Engine.Kubernetes;

/// <summary>What one pod reported on its status endpoint, beside when it started.</summary>
public sealed record PodFlagReport
{
    public required string Pod { get; init; }

    public bool Ready { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public bool? StartedAfterConfigChange { get; init; }

    /// <summary>Null when the pod did not answer or did not name the flag.</summary>
    public FlagValue? Reported { get; init; }

    /// <summary>True when the pod answered, its answer lacked the flag.</summary>
    public bool FlagMissing { get; init; }

    public bool? Matches { get; init; }
}
