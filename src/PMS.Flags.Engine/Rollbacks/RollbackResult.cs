namespace PMS.Flags.Engine.Rollbacks;

/// <summary>What an emergency rollback did and how fast: the playbook's budget is five minutes to a verified flag-off.</summary>
public sealed class RollbackResult
{
    public static readonly TimeSpan Sla = TimeSpan.FromMinutes(5);

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required string Store { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FlagOffAt { get; init; }

    /// <summary>When the deployment restart was triggered (ConfigMap store); null for stores that are live once written.</summary>
    public DateTimeOffset? RestartedAt { get; init; }

    /// <summary>When the restarted pods were all ready, i.e. users stopped getting the feature; null if they were not.</summary>
    public DateTimeOffset? PodsReadyAt { get; init; }

    /// <summary>True when the store's change reaches users only after a restart (then the SLA is judged on PodsReadyAt).</summary>
    public bool AwaitsPropagation { get; init; }

    public DateTimeOffset CompletedAt { get; init; }

    /// <summary>From the start of the command to its last step.</summary>
    public TimeSpan Duration => CompletedAt - StartedAt;

    public TimeSpan? TimeToFlagOff => FlagOffAt - StartedAt;

    public bool Verified { get; init; }

    /// <summary>The flag-off was made (a result exists only then; a rollback that could not switch it off throws).</summary>
    public bool FlagOff { get; init; }

    /// <summary>False when the flag is off but its audit events could be neither written nor spooled.</summary>
    public bool Recorded { get; init; } = true;

    public bool WithinSla => FlagOffAt is not null && Verified && Duration <= Sla && (!AwaitsPropagation || (PodsReadyAt is { } ready && ready - StartedAt <= Sla));

    public bool? PreviousOn { get; init; }

    public decimal? PreviousPercentage { get; init; }

    public long? AuditSequence { get; init; }

    public bool AuditSpooled { get; init; }

    public required IReadOnlyList<RollbackStep> Steps { get; init; }

    /// <summary>Progressive rollouts of this flag that the rollback ended (recorded as rolled back).</summary>
    public IReadOnlyList<string> EndedRollouts { get; init; } = Array.Empty<string>();

    public override string ToString() => $"{Flag} [{Environment}] off in {TimeToFlagOff?.TotalMilliseconds:0} ms, verified {Verified}, within SLA {WithinSla}";
}
