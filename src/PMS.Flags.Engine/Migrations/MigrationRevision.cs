namespace PMS.Flags.Engine.Migrations;

/// <summary>One alembic revision script as read from its source, placed in the graph, and classified.</summary>
public sealed class MigrationRevision
{
    public required string Revision { get; init; }

    /// <summary>Empty for a base revision; two or more for a merge point.</summary>
    public required IReadOnlyList<string> DownRevisions { get; init; }

    /// <summary>The labels the script declares itself.</summary>
    public IReadOnlyList<string> OwnBranchLabels { get; init; } = Array.Empty<string>();

    /// <summary>The labels as alembic reports them: a label also names the revisions above it on its branch.</summary>
    public IReadOnlyList<string> BranchLabels { get; internal set; } = Array.Empty<string>();

    public IReadOnlyList<string> DependsOn { get; init; } = Array.Empty<string>();

    /// <summary>The first paragraph of the script's docstring, as alembic prints it.</summary>
    public string Message { get; init; } = "";

    public required string Path { get; init; }

    public MigrationClassification Classification { get; init; }

    /// <summary>Why: the statement that made it Destructive or Unknown.</summary>
    public string ClassificationReason { get; init; } = "";

    public IReadOnlyList<string> NextRevisions { get; internal set; } = Array.Empty<string>();

    public bool IsHead => NextRevisions.Count == 0;

    public bool IsBase => DownRevisions.Count == 0;

    public bool IsBranchPoint => NextRevisions.Count > 1;

    public bool IsMergePoint => DownRevisions.Count > 1;

    public string DownRevision => DownRevisions.Count == 0 ? "<base>" : string.Join(", ", DownRevisions);

    public override string ToString() => $"{DownRevision} -> {Revision}, {Message} [{Classification}]";
}
