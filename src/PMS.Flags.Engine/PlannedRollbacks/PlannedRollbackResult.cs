namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>A planned rollback's outcome: a row per step, and the state things were left in.</summary>
public sealed class PlannedRollbackResult
{
    public required string RollbackId { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required IReadOnlyList<PlannedRollbackStep> Steps { get; init; }

    public bool Succeeded { get; init; }

    /// <summary>True when this run continued one that an interruption or a failed step left unfinished.</summary>
    public bool Resumed { get; init; }

    public bool FlagOff { get; init; }

    /// <summary>The revision(s) the database showed last, as alembic_version has them ("&lt;base&gt;" for none).</summary>
    public string DatabaseRevision { get; init; } = "";

    public string TargetRevision { get; init; } = "";

    /// <summary>What state things are in, in one sentence, for a failure message and the result.</summary>
    public string State { get; init; } = "";

    public override string ToString() => $"Planned rollback {RollbackId}: {(Succeeded ? "succeeded" : "stopped")}; {State}";
}
