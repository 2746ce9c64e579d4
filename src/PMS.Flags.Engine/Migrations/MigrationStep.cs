namespace PMS.Flags.Engine.Migrations;

/// <summary>One "Running upgrade 0001 -> 0002, message" line of alembic's output.</summary>
public sealed class MigrationStep
{
    /// <summary>upgrade, downgrade or stamp_revision, as alembic says.</summary>
    public required string Kind { get; init; }

    public required string From { get; init; }

    public required string To { get; init; }

    public string Message { get; init; } = "";

    public override string ToString() => $"{Kind} {From} -> {To}";
}
