namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>One row of a planned rollback: which step, how it went, when it started, how long it took, what it did.</summary>
public sealed class PlannedRollbackStep
{
    public const string FlagOff = "FlagOff";
    public const string Stabilize = "Stabilize";
    public const string Downgrade = "Downgrade";
    public const string VerifyRevision = "VerifyRevision";
    public const string UndoDeployment = "UndoDeployment";
    public const string HealthCheck = "HealthCheck";

    public required string Step { get; init; }

    /// <summary>Succeeded, Failed, Skipped (not asked for), NotRun (after a failure), or DoneEarlier (by an interrupted run).</summary>
    public required string Status { get; init; }

    public DateTimeOffset? Started { get; init; }

    public TimeSpan? Duration { get; init; }

    public string Detail { get; init; } = "";

    public override string ToString() => $"{Step} {Status}: {Detail}";
}
