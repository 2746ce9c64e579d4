namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// alembic current + heads + history for one database and scripts folder, read without Python. Current is empty at
/// base (no alembic_version table, or an empty one).
/// </summary>
public sealed class MigrationStatus
{
    public required string Database { get; init; }

    public required string ScriptLocation { get; init; }

    public required IReadOnlyList<string> Current { get; init; }

    public required IReadOnlyList<string> Heads { get; init; }

    /// <summary>True when the database is at exactly the scripts' heads.</summary>
    public bool IsAtHead => Current.Count == Heads.Count && Current.All(Heads.Contains);

    /// <summary>Revisions not yet applied, in the order upgrade heads would apply them.</summary>
    public required IReadOnlyList<MigrationRevision> Pending { get; init; }

    /// <summary>Every revision, heads first (alembic history's order).</summary>
    public required IReadOnlyList<MigrationRevision> History { get; init; }

    /// <summary>Revisions the database records that no script defines (alembic would fail with "Can't locate revision").</summary>
    public IReadOnlyList<string> UnknownCurrent { get; init; } = Array.Empty<string>();

    /// <summary>Current as alembic current prints it in one line; &lt;base&gt; when empty.</summary>
    public string CurrentText => MigrationPlan.Describe(Current);

    public string HeadsText => MigrationPlan.Describe(Heads);

    public int PendingCount => Pending.Count;

    public override string ToString() => $"{Database}: {(Current.Count == 0 ? "<base>" : string.Join(", ", Current))}, heads {string.Join(", ", Heads)}, {Pending.Count} pending";
}
