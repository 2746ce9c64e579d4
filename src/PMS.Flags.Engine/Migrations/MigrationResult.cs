namespace PMS.Flags.Engine.Migrations;

/// <summary>What Invoke-PmsMigration did: the revisions before and after (read back from the database), and alembic's steps.</summary>
public sealed class MigrationResult
{
    public required MigrationAction Action { get; init; }

    public required string Requested { get; init; }

    public required string Database { get; init; }

    public required IReadOnlyList<string> From { get; init; }

    /// <summary>alembic_version after the run, read back from the database.</summary>
    public required IReadOnlyList<string> To { get; init; }

    public required IReadOnlyList<string> Target { get; init; }

    public required IReadOnlyList<MigrationStep> Steps { get; init; }

    /// <summary>The revisions the plan crossed, with their classification.</summary>
    public required IReadOnlyList<MigrationRevision> Crossed { get; init; }

    public bool Succeeded { get; init; }

    public string Via { get; init; } = "Local";

    public DateTimeOffset StartedAt { get; init; }

    public TimeSpan Duration { get; init; }

    public long? AuditSequence { get; init; }

    public bool AuditSpooled { get; init; }

    public string FromText => MigrationPlan.Describe(From);

    public string ToText => MigrationPlan.Describe(To);

    public int StepCount => Steps.Count;

    public override string ToString() => $"{Action} {Database}: {MigrationPlan.Describe(From)} -> {MigrationPlan.Describe(To)}{(Succeeded ? "" : " (failed)")}";
}
