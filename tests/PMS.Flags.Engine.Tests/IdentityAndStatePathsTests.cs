using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Tests;

/// <summary>Who is acting (explicit, then CI, then OS user) and where per-user state lives.</summary>
public sealed class IdentityAndStatePathsTests
{
    private static Func<string, string?> Env(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out var value) ? value : null;
    }

    private static readonly Func<string, string?> CiEverything = Env(("GITHUB_ACTOR", "octocat"), ("BUILD_REQUESTEDFOREMAIL", "dev@pms.example"));

    [Fact]
    public void An_explicit_user_wins_and_is_trimmed()
    {
        Assert.Equal("alice", UserIdentity.Resolve("  alice ", CiEverything));
    }

    [Fact]
    public void GitHub_actor_comes_before_Azure_DevOps()
    {
        Assert.Equal("octocat", UserIdentity.Resolve(null, CiEverything));
        Assert.Equal("octocat", UserIdentity.Resolve("   ", CiEverything));
    }

    [Fact]
    public void Azure_DevOps_requester_is_used_without_a_GitHub_actor()
    {
        Assert.Equal("dev@pms.example", UserIdentity.Resolve(null, Env(("BUILD_REQUESTEDFOREMAIL", " dev@pms.example "))));
        Assert.Equal("dev@pms.example", UserIdentity.Resolve(null, Env(("GITHUB_ACTOR", ""), ("BUILD_REQUESTEDFOREMAIL", "dev@pms.example"))));
    }

    [Fact]
    public void The_os_user_is_the_last_resort()
    {
        Assert.Equal(Environment.UserName, UserIdentity.Resolve(null, Env()));
        Assert.Equal(Environment.UserName, UserIdentity.Resolve("", Env(("GITHUB_ACTOR", " "), ("BUILD_REQUESTEDFOREMAIL", "\t"))));
    }

    [Fact]
    public void The_state_directory_comes_from_PMS_FLAGS_STATE_DIR_as_a_full_path()
    {
        var explicitDir = Path.Combine(Path.GetTempPath(), "pms-state");
        Assert.Equal(explicitDir, StatePaths.StateDirectory(Env(("PMS_FLAGS_STATE_DIR", explicitDir), ("XDG_STATE_HOME", "/xdg"))));
        Assert.Equal(Path.GetFullPath("relative-state"), StatePaths.StateDirectory(Env(("PMS_FLAGS_STATE_DIR", "relative-state"))));
    }

    [Fact]
    public void The_state_directory_falls_back_to_XDG_then_home()
    {
        Assert.Equal(Path.Combine("/xdg/state", "pms-flags"), StatePaths.StateDirectory(Env(("XDG_STATE_HOME", "/xdg/state"))));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".local", "state", "pms-flags"), StatePaths.StateDirectory(Env(("PMS_FLAGS_STATE_DIR", " "), ("XDG_STATE_HOME", ""))));
    }

    [Fact]
    public void The_default_ledger_and_spool_live_in_the_state_directory()
    {
        var env = Env(("PMS_FLAGS_STATE_DIR", "/var/lib/pms-flags"));
        Assert.Equal(Path.Combine("/var/lib/pms-flags", "audit.jsonl"), StatePaths.DefaultLedger(env));
        Assert.Equal(Path.Combine("/var/lib/pms-flags", "spool"), StatePaths.SpoolDirectory(env));
    }

    [Fact]
    public void PMS_FLAGS_LEDGER_overrides_the_default_ledger_but_not_the_spool()
    {
        var env = Env(("PMS_FLAGS_LEDGER", "/audit/shared.jsonl"), ("PMS_FLAGS_STATE_DIR", "/var/lib/pms-flags"));
        Assert.Equal("/audit/shared.jsonl", StatePaths.DefaultLedger(env));
        Assert.Equal(Path.Combine("/var/lib/pms-flags", "spool"), StatePaths.SpoolDirectory(env));
    }
}
