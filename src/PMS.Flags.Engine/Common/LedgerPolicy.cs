using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Common;

/// <summary>
/// No silent throwaway ledger where it matters: in a protected environment a change that is not a switch-off needs a
/// ledger someone chose, because the default per-user file dies with an ephemeral CI runner and with it the only record
/// of a production change. Switching off is never held up; it is told where its event went instead.
/// </summary>
public static class LedgerPolicy
{
    /// <summary>The protected set when no store says otherwise (the stores' own default).</summary>
    public static readonly IReadOnlyCollection<string> DefaultProtectedEnvironments = new[] { "production" };

    /// <summary>Switching off and setting 0 % stop harm; switching on and any other percentage is a change.</summary>
    public static LedgerUse UseOf(FlagMutation mutation)
        => mutation.Kind == FlagChangeKind.TurnOff || (mutation.Kind == FlagChangeKind.SetPercentage && mutation.Percentage == 0m)
            ? LedgerUse.SwitchOff
            : LedgerUse.Change;

    public static bool IsProtected(IReadOnlyCollection<string> protectedEnvironments, string? environment)
        => !string.IsNullOrEmpty(environment) && protectedEnvironments.Contains(environment, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Refuses (LedgerNotConfigured) a change in a protected environment that would go to the default
    /// ledger; returns the warnings to show for a switch-off that does. Call before anything changes.
    /// </summary>
    /// <param name="command">The command's name, for the message.</param>
    /// <param name="ledgerPath">Where the default ledger is (absolute), named in the refusal and the warning.</param>
    public static IReadOnlyList<string> Check(LedgerChoice choice, LedgerUse use, string? environment, IReadOnlyCollection<string> protectedEnvironments, string command, string ledgerPath)
    {
        if (choice != LedgerChoice.Default || !IsProtected(protectedEnvironments, environment))
        {
            return Array.Empty<string>();
        }

        if (use == LedgerUse.SwitchOff)
        {
            return new[] { $"No ledger was chosen for protected environment '{environment}': this switch-off is recorded in the default ledger '{ledgerPath}'. Copy that event to the team's ledger; run Connect-FlagLedger or set {StatePaths.LedgerVariable} so the next one goes there." };
        }

        throw new FlagsException("LedgerNotConfigured", FlagsErrorKind.ResourceUnavailable,
            $"{command} in protected environment '{environment}' needs a ledger someone chose: run Connect-FlagLedger, set {StatePaths.LedgerVariable}, or pass -Ledger. The default ledger '{ledgerPath}' is a per-user file that an ephemeral runner deletes with itself. Nothing was changed.",
            environment);
    }

    /// <summary>Under GitHub Actions or Azure Pipelines the default ledger is announced as a warning: the runner's files do not outlive the job.</summary>
    public static bool AnnouncesDefaultLedgerAsWarning(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase)
               || string.Equals(environment("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase);
    }
}
