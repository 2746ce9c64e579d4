namespace PMS.Flags.Engine.Common;

/// <summary>
/// Where PMS.Flags keeps per-user state when nothing else is configured: the default ledger and the audit spool.
/// Follows the XDG base-directory convention so a scheduled job and an interactive session of the same user agree.
/// Every path it returns is absolute: a relative HOME, XDG_STATE_HOME, PMS_FLAGS_STATE_DIR or PMS_FLAGS_LEDGER is
/// resolved against <c>baseDirectory</c> — the cmdlets pass pwsh's current location, which is where a user who typed a
/// relative path meant it, not the process's working directory, which pwsh does not move on Set-Location.
/// </summary>
public static class StatePaths
{
    public const string StateDirectoryVariable = "PMS_FLAGS_STATE_DIR";
    public const string LedgerVariable = "PMS_FLAGS_LEDGER";

    public static string StateDirectory(Func<string, string?>? environment = null, string? baseDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitDir = environment(StateDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(explicitDir))
        {
            return Absolute(explicitDir, baseDirectory);
        }

        var xdg = environment("XDG_STATE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg))
        {
            return Absolute(Path.Combine(xdg, "pms-flags"), baseDirectory);
        }

        var home = environment("HOME");
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return Absolute(Path.Combine(home, ".local", "state", "pms-flags"), baseDirectory);
    }

    /// <summary>The ledger used when no Connect-FlagLedger was run: $PMS_FLAGS_LEDGER, else &lt;state dir&gt;/audit.jsonl.</summary>
    public static string DefaultLedger(Func<string, string?>? environment = null, string? baseDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitLedger = environment(LedgerVariable);
        return !string.IsNullOrWhiteSpace(explicitLedger)
            ? Absolute(explicitLedger, baseDirectory)
            : Path.Combine(StateDirectory(environment, baseDirectory), "audit.jsonl");
    }

    /// <summary>Whether $PMS_FLAGS_LEDGER names the ledger: a choice someone made, unlike the per-user default.</summary>
    public static bool LedgerChosenByVariable(Func<string, string?>? environment = null)
        => !string.IsNullOrWhiteSpace((environment ?? Environment.GetEnvironmentVariable)(LedgerVariable));

    public static string SpoolDirectory(Func<string, string?>? environment = null, string? baseDirectory = null)
        => Path.Combine(StateDirectory(environment, baseDirectory), "spool");

    private static string Absolute(string path, string? baseDirectory)
        => baseDirectory is null ? Path.GetFullPath(path) : Path.GetFullPath(path, Path.GetFullPath(baseDirectory));
}
