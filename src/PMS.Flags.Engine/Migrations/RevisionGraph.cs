using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// The revision graph of an alembic scripts folder, and alembic's ways of naming a revision in it: an id or a unique
/// prefix of one, a branch label, label@head, head, heads and base. Built from the scripts' text alone.
/// </summary>
public sealed class RevisionGraph
{
    public const string Base = "base";

    private readonly Dictionary<string, MigrationRevision> byId;

    private RevisionGraph(Dictionary<string, MigrationRevision> byId, string location)
    {
        this.byId = byId;
        Location = location;
        Heads = byId.Values.Where(r => r.IsHead).Select(r => r.Revision).OrderBy(r => r, StringComparer.Ordinal).ToArray();
        Bases = byId.Values.Where(r => r.IsBase).Select(r => r.Revision).OrderBy(r => r, StringComparer.Ordinal).ToArray();
    }

    public string Location { get; }

    public IReadOnlyList<string> Heads { get; }

    public IReadOnlyList<string> Bases { get; }

    public int Count => byId.Count;

    public MigrationRevision this[string revision] => byId[revision];

    public bool Contains(string revision) => byId.ContainsKey(revision);

    /// <summary>Reads every *.py file of the versions folders (as alembic does, __init__ excepted) and links them.</summary>
    public static RevisionGraph Load(IReadOnlyList<string> versionDirectories)
    {
        var location = string.Join(", ", versionDirectories);
        var byId = new Dictionary<string, MigrationRevision>(StringComparer.Ordinal);
        foreach (var directory in versionDirectories)
        {
            if (!Directory.Exists(directory))
            {
                throw new FlagsException(MigrationErrorIds.ScriptLocationNotFound, FlagsErrorKind.ObjectNotFound, $"The migration versions folder '{directory}' does not exist.", directory);
            }

            foreach (var file in Directory.EnumerateFiles(directory, "*.py").Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(file).StartsWith("__init__", StringComparison.Ordinal) || Path.GetFileName(file).StartsWith(".#", StringComparison.Ordinal))
                {
                    continue;
                }

                if (MigrationScriptReader.Read(file) is not { } revision)
                {
                    continue;
                }

                if (!byId.TryAdd(revision.Revision, revision))
                {
                    throw new FlagsException(MigrationErrorIds.ScriptUnreadable, FlagsErrorKind.InvalidData, $"Revision {revision.Revision} is defined twice: '{byId[revision.Revision].Path}' and '{file}'.", file);
                }
            }
        }

        if (byId.Count == 0)
        {
            throw new FlagsException(MigrationErrorIds.NoRevisions, FlagsErrorKind.ObjectNotFound, $"No alembic revision script in '{location}': expected .py files assigning revision and down_revision.", location);
        }

        Link(byId);
        return new RevisionGraph(byId, location);
    }

    private static void Link(Dictionary<string, MigrationRevision> byId)
    {
        var next = byId.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var revision in byId.Values)
        {
            foreach (var down in revision.DownRevisions)
            {
                if (!next.TryGetValue(down, out var children))
                {
                    throw new FlagsException(MigrationErrorIds.BrokenGraph, FlagsErrorKind.InvalidData, $"Revision {revision.Revision} ('{revision.Path}') revises {down}, which no script defines.", revision.Path);
                }

                children.Add(revision.Revision);
            }
        }

        foreach (var revision in byId.Values)
        {
            revision.NextRevisions = next[revision.Revision].Order(StringComparer.Ordinal).ToArray();
        }

        // As alembic: a label names its revision and everything above it; below it, the label reaches down a plain
        // chain until a branch point or merge point.
        var labels = byId.Keys.ToDictionary(k => k, k => new SortedSet<string>(byId[k].OwnBranchLabels, StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var labelled in byId.Values.Where(r => r.OwnBranchLabels.Count > 0))
        {
            foreach (var descendant in Walk(byId, new[] { labelled.Revision }, r => r.NextRevisions))
            {
                labels[descendant].UnionWith(labelled.OwnBranchLabels);
            }

            var parent = labelled;
            while (parent.NextRevisions.Count <= 1 && !parent.IsMergePoint && parent.DownRevisions.Count == 1)
            {
                parent = byId[parent.DownRevisions[0]];
                if (parent.NextRevisions.Count > 1 || parent.IsMergePoint)
                {
                    break;
                }

                labels[parent.Revision].UnionWith(labelled.OwnBranchLabels);
            }
        }

        foreach (var revision in byId.Values)
        {
            revision.BranchLabels = labels[revision.Revision].ToArray();
        }
    }

    /// <summary>The revision and all revisions below it (towards base).</summary>
    public IReadOnlySet<string> AncestorsOf(IEnumerable<string> revisions)
        => Walk(byId, revisions, r => r.DownRevisions).ToHashSet(StringComparer.Ordinal);

    /// <summary>The revision and all revisions above it (towards the heads).</summary>
    public IReadOnlySet<string> DescendantsOf(IEnumerable<string> revisions)
        => Walk(byId, revisions, r => r.NextRevisions).ToHashSet(StringComparer.Ordinal);

    /// <summary>All revisions, heads first and each revision before the ones it revises (alembic history's order of dependency).</summary>
    public IReadOnlyList<MigrationRevision> TopologicalFromHeads()
    {
        var remainingChildren = byId.Values.ToDictionary(r => r.Revision, r => r.NextRevisions.Count, StringComparer.Ordinal);
        var ready = new SortedSet<string>(Heads, StringComparer.Ordinal);
        var order = new List<MigrationRevision>(byId.Count);
        while (ready.Count > 0)
        {
            // Among revisions ready together, the lowest id first: the order alembic 1.8 lists (and runs) siblings in.
            var id = ready.Min!;
            ready.Remove(id);
            order.Add(byId[id]);
            foreach (var down in byId[id].DownRevisions)
            {
                if (--remainingChildren[down] == 0)
                {
                    ready.Add(down);
                }
            }
        }

        return order;
    }

    /// <summary>
    /// Resolves an absolute identifier to revision ids (empty for base). Relative steps (-1, +2) depend on the database's
    /// current revisions and are resolved by <see cref="MigrationPlanner"/>.
    /// </summary>
    public IReadOnlyList<string> Resolve(string identifier)
    {
        var text = identifier.Trim();
        switch (text)
        {
            case Base:
                return Array.Empty<string>();
            case "heads":
                return Heads;
            case "head":
                return Heads.Count == 1 ? Heads
                    : throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"'head' is ambiguous: the scripts have {Heads.Count} heads ({string.Join(", ", Heads)}). Name one, a label@head, or 'heads'.", identifier);
        }

        if (text.EndsWith("@head", StringComparison.Ordinal))
        {
            var label = text[..^"@head".Length];
            var onBranch = byId.Values.Where(r => r.IsHead && (r.BranchLabels.Contains(label) || AncestorsOf(new[] { r.Revision }).Contains(ResolveOne(label, identifier)))).Select(r => r.Revision).ToArray();
            return onBranch.Length == 1 ? onBranch
                : throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"'{identifier}' names {onBranch.Length} heads.", identifier);
        }

        return new[] { ResolveOne(text, identifier) };
    }

    private string ResolveOne(string text, string identifier)
    {
        if (byId.ContainsKey(text))
        {
            return text;
        }

        var labelled = byId.Values.Where(r => r.OwnBranchLabels.Contains(text)).Select(r => r.Revision).ToArray();
        if (labelled.Length == 1)
        {
            return labelled[0];
        }

        var prefixed = text.Length == 0 ? Array.Empty<string>() : byId.Keys.Where(k => k.StartsWith(text, StringComparison.Ordinal)).ToArray();
        return prefixed.Length switch
        {
            1 => prefixed[0],
            0 => throw new FlagsException(MigrationErrorIds.RevisionNotFound, FlagsErrorKind.ObjectNotFound, $"No revision '{identifier}' in {Location}: not an id, a unique id prefix, a branch label, head, heads or base.", identifier),
            _ => throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"'{identifier}' is the prefix of {prefixed.Length} revisions ({string.Join(", ", prefixed.Order(StringComparer.Ordinal))}).", identifier),
        };
    }

    private static IEnumerable<string> Walk(Dictionary<string, MigrationRevision> byId, IEnumerable<string> start, Func<MigrationRevision, IReadOnlyList<string>> step)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(start);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!seen.Add(id))
            {
                continue;
            }

            yield return id;
            foreach (var other in step(byId[id]))
            {
                stack.Push(other);
            }
        }
    }
}
