namespace PMS.Flags.Engine.Migrations;

/// <summary>One row of psql's \dt: the tables visible on the search path.</summary>
public sealed class DatabaseTable
{
    public required string Schema { get; init; }

    public required string Name { get; init; }

    /// <summary>"table" or "partitioned table", as \dt says.</summary>
    public required string Type { get; init; }

    public required string Owner { get; init; }

    public override string ToString() => $"{Schema}.{Name}";
}
