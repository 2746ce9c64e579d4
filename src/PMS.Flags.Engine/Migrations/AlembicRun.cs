namespace PMS.Flags.Engine.Migrations;

/// <summary>What one alembic process did: its exit code, its output (password masked), and the steps it reported.</summary>
public sealed class AlembicRun
{
    public required IReadOnlyList<string> Arguments { get; init; }

    public int ExitCode { get; init; }

    public required string StandardOutput { get; init; }

    public required IReadOnlyList<string> Lines { get; init; }

    public required IReadOnlyList<MigrationStep> Steps { get; init; }

    public TimeSpan Duration { get; init; }

    public bool Succeeded => ExitCode == 0;

    /// <summary>alembic's own error lines (ERROR/FAILED, and the exception's last line), for the error message.</summary>
    public string ErrorSummary
    {
        get
        {
            var errors = Lines.Where(l => l.StartsWith("FAILED", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal) || l.Contains("Error:", StringComparison.Ordinal) || l.Contains("Error)", StringComparison.Ordinal)).Distinct().TakeLast(4).ToArray();
            return errors.Length > 0 ? string.Join(" | ", errors) : Lines.LastOrDefault() ?? $"exit code {ExitCode}";
        }
    }
}
