using System.Globalization;
using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Turns "upgrade head", "downgrade -1" or "stamp 0003" plus the database's current revisions into a concrete plan.
/// Relative steps are refused where alembic would guess: from several current revisions (alembic 1.8 then picks one
/// branch with only a warning) or across a merge point (alembic: "Ambiguous walk").
/// </summary>
public static class MigrationPlanner
{
    private static readonly Regex Relative = new(@"^([+-])(\d+)$", RegexOptions.Compiled);

    public static MigrationPlan Plan(RevisionGraph graph, IReadOnlyList<string> current, MigrationAction action, string requested)
    {
        var unknown = current.Where(c => !graph.Contains(c)).ToArray();
        if (unknown.Length > 0)
        {
            throw new FlagsException(MigrationErrorIds.CurrentRevisionUnknown, FlagsErrorKind.InvalidData, $"The database is at {string.Join(", ", unknown)}, which no script in {graph.Location} defines. Check -ScriptLocation, or stamp the database deliberately.", string.Join(", ", unknown));
        }

        var target = Relative.Match(requested.Trim()) is { Success: true } relative
            ? Step(graph, current, relative.Groups[1].Value == "+", int.Parse(relative.Groups[2].Value, CultureInfo.InvariantCulture), requested)
            : graph.Resolve(requested);

        var below = graph.AncestorsOf(current);
        var targetBelow = graph.AncestorsOf(target);
        IReadOnlyList<MigrationRevision> crossed;
        switch (action)
        {
            case MigrationAction.Upgrade:
                if (target.Any(t => below.Contains(t) && !current.Contains(t)))
                {
                    throw new FlagsException(MigrationErrorIds.InvalidDirection, FlagsErrorKind.InvalidArgument, $"'{requested}' ({MigrationPlan.Describe(target)}) is below the current revision {MigrationPlan.Describe(current)}: use -Downgrade.", requested);
                }

                // Upgrade order: each revision after everything it revises.
                crossed = graph.TopologicalFromHeads().Where(r => targetBelow.Contains(r.Revision) && !below.Contains(r.Revision)).Reverse().ToArray();
                break;
            case MigrationAction.Downgrade:
                if (target.Any(t => !below.Contains(t)))
                {
                    throw new FlagsException(MigrationErrorIds.InvalidDirection, FlagsErrorKind.InvalidArgument, $"'{requested}' ({MigrationPlan.Describe(target)}) is not below the current revision {MigrationPlan.Describe(current)}: a downgrade can only go towards base.", requested);
                }

                crossed = graph.TopologicalFromHeads().Where(r => below.Contains(r.Revision) && !targetBelow.Contains(r.Revision)).ToArray();
                break;
            default:
                crossed = Array.Empty<MigrationRevision>();
                break;
        }

        return new MigrationPlan { Action = action, Requested = requested, Target = target, From = current, Crossed = crossed };
    }

    private static IReadOnlyList<string> Step(RevisionGraph graph, IReadOnlyList<string> current, bool up, int count, string requested)
    {
        if (current.Count > 1)
        {
            throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"'{requested}' is ambiguous: the database is at {current.Count} revisions ({string.Join(", ", current)}). Name the target revision instead.", requested);
        }

        IReadOnlyList<string> position = current;
        for (var i = 0; i < count; i++)
        {
            IReadOnlyList<string> next;
            if (up)
            {
                next = position.Count == 0 ? graph.Bases : graph[position[0]].NextRevisions;
            }
            else
            {
                next = position.Count == 0
                    ? throw new FlagsException(MigrationErrorIds.RevisionNotFound, FlagsErrorKind.InvalidArgument, $"'{requested}': the database is already at base.", requested)
                    : graph[position[0]].DownRevisions;
            }

            if (up && next.Count == 0)
            {
                throw new FlagsException(MigrationErrorIds.RevisionNotFound, FlagsErrorKind.InvalidArgument, $"'{requested}' goes past the head {MigrationPlan.Describe(position)}.", requested);
            }

            if (next.Count > 1)
            {
                throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"'{requested}' is ambiguous: {MigrationPlan.Describe(position)} is a {(up ? "branch" : "merge")} point ({string.Join(", ", next)}). Name the target revision instead.", requested);
            }

            position = next;
        }

        return position;
    }
}
