namespace PMS.Flags.Engine.Common;

/// <summary>
/// Where PMS.Flags keeps per-user state when nothing else is configured: the default ledger and the audit spool.
/// Follows the XDG base-directory convention so a scheduled job and an interactive session of the same user agree.
/// </summary>
public static class StatePaths
{
    public const string StateDirectoryVariable = "PMS_FLAGS_STATE_DIR";
    public const string LedgerVariable = "PMS_FLAGS_LEDGER";

    public static string StateDirectory(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitDir = environment(StateDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(explicitDir))
        {
            return Path.GetFullPath(explicitDir);
        }

        var xdg = environment("XDG_STATE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg))
        {
            return Path.Combine(xdg, "pms-flags");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "state", "pms-flags");
    }

    /// <summary>The ledger used when no Connect-FlagLedger was run: $PMS_FLAGS_LEDGER, else &lt;state dir&gt;/audit.jsonl.</summary>
    public static string DefaultLedger(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitLedger = environment(LedgerVariable);
        return !string.IsNullOrWhiteSpace(explicitLedger)
            ? Path.GetFullPath(explicitLedger)
            : Path.Combine(StateDirectory(environment), "audit.jsonl");
    }

    public static string SpoolDirectory(Func<string, string?>? environment = null)
        => Path.Combine(StateDirectory(environment), "spool");
}
