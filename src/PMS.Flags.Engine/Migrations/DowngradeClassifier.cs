using System.Text.RegularExpressions;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Judges a revision's downgrade() from its source alone. Conservative on purpose: anything it cannot read with
/// certainty (a helper call, SQL built at run time, a loop, no downgrade at all) is Unknown, which is refused like
/// Destructive, because a downgrade that destroys data must never run unattended by mistake.
/// </summary>
internal static class DowngradeClassifier
{
    // Alembic operations that change structure without destroying stored values.
    private static readonly HashSet<string> KeepsData = new(StringComparer.Ordinal)
    {
        "add_column", "alter_column", "create_table", "create_index", "drop_index", "create_foreign_key",
        "create_primary_key", "create_unique_constraint", "create_check_constraint", "create_exclude_constraint",
        "drop_constraint", "rename_table", "create_table_comment", "drop_table_comment", "bulk_insert",
        "batch_alter_table", "get_bind", "get_context", "f", "inline_literal", "execute",
    };

    private static readonly Regex DestructiveOperation = new(@"\.\s*(drop_table|drop_column)\s*\(", RegexOptions.Compiled);
    private static readonly Regex DestructiveSql = new(@"\b(DROP|DELETE|TRUNCATE)\b", RegexOptions.Compiled | RegexOptions.IgnoreCase);
    private static readonly Regex Execute = new(@"\.\s*execute\s*\(", RegexOptions.Compiled);
    private static readonly Regex OperationCall = new(@"\b(op|batch_op)\s*\.\s*(\w+)\s*\(", RegexOptions.Compiled);
    private static readonly Regex AnyCall = new(@"(?<![\w.])([A-Za-z_]\w*)\s*\(", RegexOptions.Compiled);
    private static readonly Regex Assignment = new(@"^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$", RegexOptions.Compiled);
    private static readonly Regex BatchWith = new(@"^with\s+op\s*\.\s*batch_alter_table\s*\(.*\)\s+as\s+(\w+)\s*:$", RegexOptions.Compiled);

    public static (MigrationClassification Classification, string Reason) Classify(IReadOnlyList<string> logicalLines)
    {
        var start = -1;
        for (var i = 0; i < logicalLines.Count; i++)
        {
            if (PythonSource.Indentation(logicalLines[i]) == 0 && Regex.IsMatch(logicalLines[i], @"^def\s+downgrade\s*\("))
            {
                start = i;
            }
        }

        if (start < 0)
        {
            return (MigrationClassification.Unknown, "no downgrade() function");
        }

        var body = new List<string>();
        for (var i = start + 1; i < logicalLines.Count && PythonSource.Indentation(logicalLines[i]) > 0; i++)
        {
            body.Add(logicalLines[i].Trim());
        }

        string? unknown = null;
        var connections = new HashSet<string>(StringComparer.Ordinal) { "op", "batch_op" };
        foreach (var statement in body)
        {
            var code = PythonSource.WithoutStrings(statement);
            if (DestructiveOperation.Match(code) is { Success: true } drop)
            {
                return (MigrationClassification.Destructive, $"{drop.Groups[1].Value}: {statement}");
            }

            if (Execute.IsMatch(code))
            {
                var literals = PythonSource.StringLiterals(statement);
                if (literals.FirstOrDefault(l => DestructiveSql.IsMatch(l)) is { } sql)
                {
                    return (MigrationClassification.Destructive, $"raw SQL: {sql.Trim()}");
                }

                if (literals.Count == 0)
                {
                    unknown ??= $"SQL built at run time: {statement}";
                }
            }

            unknown ??= UnreadableReason(statement, code, connections);
        }

        return unknown is null ? (MigrationClassification.Reversible, body.Count == 0 ? "empty downgrade()" : "no table or column dropped, no DROP/DELETE/TRUNCATE")
            : (MigrationClassification.Unknown, unknown);
    }

    /// <summary>Null when the statement is one this classifier fully understands; otherwise why it cannot judge it.</summary>
    private static string? UnreadableReason(string statement, string code, HashSet<string> connections)
    {
        if (code is "pass" or "\"\"" || code.StartsWith("\"\"", StringComparison.Ordinal) && code.Trim('"').Length == 0)
        {
            return null;
        }

        if (code.StartsWith("raise", StringComparison.Ordinal))
        {
            return $"downgrade raises: {statement}";
        }

        if (BatchWith.Match(code) is { Success: true } batch)
        {
            connections.Add(batch.Groups[1].Value);
            return null;
        }

        if (Regex.IsMatch(code, @"^(for|while|if|elif|else|try|except|finally|with|def|class|import|from|global|exec|eval)\b"))
        {
            return $"control flow or code the classifier does not follow: {statement}";
        }

        var expression = code;
        if (Assignment.Match(code) is { Success: true } assignment)
        {
            expression = assignment.Groups[2].Value;
            if (Regex.IsMatch(expression, @"^op\s*\.\s*get_bind\s*\(\s*\)$"))
            {
                connections.Add(assignment.Groups[1].Value);
                return null;
            }
        }

        foreach (Match call in OperationCall.Matches(expression))
        {
            if (!KeepsData.Contains(call.Groups[2].Value))
            {
                return $"operation the classifier does not know: {call.Groups[1].Value}.{call.Groups[2].Value}";
            }
        }

        foreach (Match call in AnyCall.Matches(expression))
        {
            var name = call.Groups[1].Value;
            // sa.Column(...), sa.text(...) and the like are qualified (skipped by the look-behind); a bare call is a helper.
            if (name is not ("op" or "batch_op" or "print" or "str" or "int" or "text" or "table" or "column" or "Column"))
            {
                return $"calls '{name}', which the classifier cannot follow: {statement}";
            }
        }

        var receiver = Regex.Match(expression, @"^([A-Za-z_]\w*)\s*\.");
        if (receiver.Success && !connections.Contains(receiver.Groups[1].Value) && receiver.Groups[1].Value is not ("sa" or "sqlalchemy"))
        {
            return $"statement on '{receiver.Groups[1].Value}', which the classifier cannot follow: {statement}";
        }

        return null;
    }
}
