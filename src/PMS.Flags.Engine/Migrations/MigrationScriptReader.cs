using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Reads one alembic revision script as text -- its identifiers, docstring and downgrade() -- without running Python,
/// so the status of a database costs no interpreter start. The identifiers must be literals, as alembic's template writes them.
/// </summary>
internal static class MigrationScriptReader
{
    private static readonly Regex Header = new(@"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=]+)?=\s*(.+)$", RegexOptions.Compiled);
    private static readonly Regex LiteralValue = new(@"^(None|[(\[]?\s*((?:[rRbBuU]?(?:'[^'\\]*'|""[^""\\]*"")\s*,?\s*)*)[)\]]?)$", RegexOptions.Compiled);

    /// <summary>The revision, or null when the file assigns no revision (a helper module beside the scripts).</summary>
    public static MigrationRevision? Read(string path)
    {
        string source;
        try
        {
            source = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlagsException(MigrationErrorIds.ScriptUnreadable, FlagsErrorKind.InvalidData, $"Cannot read the migration script '{path}': {ex.Message}", path, ex);
        }

        var lines = PythonSource.LogicalLines(source);
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (PythonSource.Indentation(line) != 0 || Header.Match(line) is not { Success: true } match)
            {
                continue;
            }

            var value = match.Groups[2].Value.Trim();
            if (!LiteralValue.IsMatch(value))
            {
                throw new FlagsException(MigrationErrorIds.ScriptUnreadable, FlagsErrorKind.InvalidData, $"The migration script '{path}' assigns {match.Groups[1].Value} = {value}, which is not a literal; it cannot be read without running Python.", path);
            }

            headers[match.Groups[1].Value] = value == "None" ? Array.Empty<string>() : PythonSource.StringLiterals(value);
        }

        if (!headers.TryGetValue("revision", out var revision))
        {
            return null;
        }

        if (revision.Count != 1 || revision[0].Length == 0)
        {
            throw new FlagsException(MigrationErrorIds.ScriptUnreadable, FlagsErrorKind.InvalidData, $"The migration script '{path}' has no single revision id.", path);
        }

        var (classification, reason) = DowngradeClassifier.Classify(lines);
        return new MigrationRevision
        {
            Revision = revision[0],
            DownRevisions = headers.GetValueOrDefault("down_revision") ?? Array.Empty<string>(),
            OwnBranchLabels = headers.GetValueOrDefault("branch_labels") ?? Array.Empty<string>(),
            DependsOn = headers.GetValueOrDefault("depends_on") ?? Array.Empty<string>(),
            Message = Docstring(lines),
            Path = path,
            Classification = classification,
            ClassificationReason = reason,
        };
    }

    /// <summary>As alembic's Script.doc: the module docstring, stripped, up to its first blank line.</summary>
    private static string Docstring(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
        {
            return "";
        }

        var literals = PythonSource.StringLiterals(lines[0]);
        if (literals.Count != 1 || PythonSource.WithoutStrings(lines[0]).Trim() != "\"\"")
        {
            return "";
        }

        var doc = literals[0].Replace("\r\n", "\n").Trim();
        var blank = doc.IndexOf("\n\n", StringComparison.Ordinal);
        return blank < 0 ? doc : doc[..blank];
    }
}
