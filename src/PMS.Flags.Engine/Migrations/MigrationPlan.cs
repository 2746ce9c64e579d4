namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// What one alembic command will do, decided before alembic runs: the revisions it will cross and, for a downgrade,
/// whether any of them loses data. The target is always concrete (ids or base), so alembic runs exactly what was judged.
/// </summary>
public sealed class MigrationPlan
{
    public required MigrationAction Action { get; init; }

    /// <summary>As the user wrote it (head, -1, a label, an id prefix).</summary>
    public required string Requested { get; init; }

    /// <summary>The resolved target: revision ids, empty for base.</summary>
    public required IReadOnlyList<string> Target { get; init; }

    public required IReadOnlyList<string> From { get; init; }

    /// <summary>Revisions whose upgrade (or downgrade) will run, in the order alembic runs them; empty for a stamp.</summary>
    public required IReadOnlyList<MigrationRevision> Crossed { get; init; }

    /// <summary>The crossed revisions whose downgrade is Destructive or Unknown (downgrades only).</summary>
    public IReadOnlyList<MigrationRevision> DataLoss => Action == MigrationAction.Downgrade
        ? Crossed.Where(r => r.Classification != MigrationClassification.Reversible).ToArray()
        : Array.Empty<MigrationRevision>();

    /// <summary>The argument given to alembic: the ids joined (alembic accepts several heads), or base.</summary>
    public string AlembicTarget => Target.Count == 0 ? RevisionGraph.Base : string.Join(" ", Target);

    public static string Describe(IReadOnlyList<string> revisions) => revisions.Count == 0 ? "<base>" : string.Join(", ", revisions);

    public override string ToString()
        => $"{Action} {Describe(From)} -> {Describe(Target)}"
           + (Crossed.Count == 0 ? "" : $" ({string.Join(", ", Crossed.Select(r => $"{r.Revision} {r.Classification}"))})");
}
