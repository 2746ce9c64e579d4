using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Tests;

/// <summary>
/// Issue 9, item 3: a protected change needs a chosen ledger, a switch-off never waits for one, and every default
/// state path is absolute, relative variables resolving against the given base (pwsh's location), not the process's.
/// </summary>
public sealed class LedgerPolicyTests
{
    private static readonly IReadOnlyCollection<string> Production = new[] { "production" };
    private const string DefaultPath = "/home/ci/.local/state/pms-flags/audit.jsonl";

    private static Func<string, string?> Env(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out var value) ? value : null;
    }

    [Fact]
    public void A_change_in_a_protected_environment_on_the_default_ledger_is_LedgerNotConfigured()
    {
        var refusal = Assert.Throws<FlagsException>(() => LedgerPolicy.Check(LedgerChoice.Default, LedgerUse.Change, "Production", Production, "Set-FlagPercentage", DefaultPath));

        Assert.Equal("LedgerNotConfigured", refusal.ErrorId);
        Assert.Equal(FlagsErrorKind.ResourceUnavailable, refusal.Kind);
        Assert.Contains(DefaultPath, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", refusal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LedgerChoice.Parameter)]
    [InlineData(LedgerChoice.Connected)]
    [InlineData(LedgerChoice.EnvironmentVariable)]
    public void A_chosen_ledger_lets_a_protected_change_through_without_a_warning(LedgerChoice choice)
    {
        Assert.Empty(LedgerPolicy.Check(choice, LedgerUse.Change, "production", Production, "Enable-Flag", DefaultPath));
        Assert.Empty(LedgerPolicy.Check(choice, LedgerUse.SwitchOff, "production", Production, "Disable-Flag", DefaultPath));
    }

    [Fact]
    public void A_switch_off_on_the_default_ledger_proceeds_and_names_where_its_event_went()
    {
        var warning = Assert.Single(LedgerPolicy.Check(LedgerChoice.Default, LedgerUse.SwitchOff, "production", Production, "Disable-Flag", DefaultPath));

        Assert.Contains($"'{DefaultPath}'", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("staging")]
    [InlineData("")]
    [InlineData(null)]
    public void An_unprotected_or_absent_environment_is_not_held_up(string? environment)
    {
        Assert.Empty(LedgerPolicy.Check(LedgerChoice.Default, LedgerUse.Change, environment, Production, "Invoke-PmsMigration", DefaultPath));
    }

    [Theory]
    [InlineData(FlagChangeKind.TurnOff, null, LedgerUse.SwitchOff)]
    [InlineData(FlagChangeKind.SetPercentage, "0", LedgerUse.SwitchOff)]
    [InlineData(FlagChangeKind.SetPercentage, "0.001", LedgerUse.Change)]
    [InlineData(FlagChangeKind.TurnOn, null, LedgerUse.Change)]
    public void Switching_off_and_zero_percent_stop_harm_everything_else_is_a_change(FlagChangeKind kind, string? percentage, LedgerUse expected)
    {
        var mutation = new FlagMutation { Flag = "f", Environment = "production", Kind = kind, Percentage = percentage is null ? null : decimal.Parse(percentage, System.Globalization.CultureInfo.InvariantCulture), Reason = "r", User = "u" };

        Assert.Equal(expected, LedgerPolicy.UseOf(mutation));
    }

    [Theory]
    [InlineData("GITHUB_ACTIONS", "true", true)]
    [InlineData("GITHUB_ACTIONS", "false", false)]
    [InlineData("TF_BUILD", "True", true)]
    [InlineData("CI", "true", false)]
    public void The_default_ledger_is_announced_as_a_warning_under_GitHub_Actions_and_Azure_Pipelines(string name, string value, bool expected)
    {
        Assert.Equal(expected, LedgerPolicy.AnnouncesDefaultLedgerAsWarning(Env((name, value))));
    }

    [Theory]
    [InlineData("PMS_FLAGS_LEDGER", "rel/audit.jsonl", "rel/audit.jsonl")]
    [InlineData("PMS_FLAGS_STATE_DIR", "state", "state/audit.jsonl")]
    [InlineData("XDG_STATE_HOME", "xdg", "xdg/pms-flags/audit.jsonl")]
    [InlineData("HOME", "home", "home/.local/state/pms-flags/audit.jsonl")]
    public void A_relative_variable_resolves_against_the_given_base_not_the_process_directory(string name, string value, string expected)
    {
        var location = Path.Combine(Path.GetTempPath(), "pwsh-location");

        var ledger = StatePaths.DefaultLedger(Env((name, value)), location);

        Assert.Equal(Path.Combine(location, expected), ledger);
        Assert.True(Path.IsPathFullyQualified(StatePaths.SpoolDirectory(Env((name, value)), location)));
    }

    [Fact]
    public void Only_PMS_FLAGS_LEDGER_counts_as_a_chosen_ledger()
    {
        Assert.True(StatePaths.LedgerChosenByVariable(Env(("PMS_FLAGS_LEDGER", "/audit/team.jsonl"))));
        Assert.False(StatePaths.LedgerChosenByVariable(Env(("PMS_FLAGS_LEDGER", " "), ("PMS_FLAGS_STATE_DIR", "/var/lib/pms-flags"))));
    }
}
