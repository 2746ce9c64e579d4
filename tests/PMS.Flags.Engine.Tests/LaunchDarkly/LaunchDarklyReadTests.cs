using PMS.Flags.Engine.Flags.LaunchDarkly;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

public sealed class LaunchDarklyReadTests
{
    [Fact]
    public async Task A_flag_reports_on_percentage_version_last_modified_and_what_serves_it()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var state = Assert.Single(await store.GetFlagsAsync("production", "new-billing", CancellationToken.None));

        Assert.Equal("new-billing", state.Flag);
        Assert.Equal("production", state.Environment);
        Assert.True(state.On);
        Assert.Equal(25m, state.Percentage);
        Assert.Equal(25m, state.EffectivePercentage);
        Assert.Equal("12", state.Version);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1732550400000), state.LastModified);
        Assert.Equal("fallthrough", state.ServedBy);
        Assert.Equal($"LaunchDarkly:pms@{kit.StandIn.BaseUri.Authority}", state.Store);
        var request = Assert.Single(kit.State.Requests);
        Assert.Equal("/api/v2/flags/pms/new-billing", request.Path);
        Assert.Equal("?env=production", request.Query);
    }

    [Fact]
    public async Task An_off_flag_reports_what_its_off_variation_serves()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var portal = (await store.GetFlagsAsync("production", "patient-portal-v2", CancellationToken.None))[0];
        var legacy = (await store.GetFlagsAsync("production", "legacy-export", CancellationToken.None))[0];

        Assert.False(portal.On);
        Assert.Equal(0m, portal.OffPercentage);
        Assert.Equal(0m, portal.EffectivePercentage);
        Assert.False(legacy.On);
        Assert.Equal(100m, legacy.Percentage); // the fallthrough serves true, but only once it is on
        Assert.Null(legacy.OffPercentage); // offVariation unset: the application's fallback is served
        Assert.Null(legacy.EffectivePercentage);
    }

    [Fact]
    public async Task All_flags_of_an_environment_leave_out_archived_and_non_boolean_flags()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var flags = await store.GetFlagsAsync("production", null, CancellationToken.None);

        Assert.Equal(new[] { "lab-results-v2", "legacy-export", "new-billing", "patient-portal-v2", "telehealth-video" }, flags.Select(f => f.Flag));
        Assert.Contains(kit.Log.Lines, l => l.StartsWith("WARNING:", StringComparison.Ordinal) && l.Contains("checkout-theme", StringComparison.Ordinal));
        var list = Assert.Single(kit.State.Requests);
        Assert.Contains("summary=0", list.Query);
        Assert.Contains("env=production", list.Query);
    }

    [Fact]
    public async Task Listing_follows_next_links_until_there_is_none()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var token = LaunchDarklyAccessToken.FromChars(Token);
        using var client = new LaunchDarklyClient(kit.StandIn.BaseUri, token, FastOptions);

        var flags = await client.ListFlagsAsync("pms", "staging", summary: true, pageSize: 2, budget: null, CancellationToken.None);

        Assert.Equal(6, flags.Count);
        Assert.Equal(3, kit.State.Requests.Count);
        Assert.Equal(new[] { "?limit=2&env=staging", "?limit=2&env=staging&offset=2", "?limit=2&env=staging&offset=4" }, kit.State.Requests.Select(r => r.Query));
        Assert.All(flags, f => Assert.Null(f.Environments["staging"].Rules)); // summaries carry no rules
    }

    [Fact]
    public async Task Tab_completion_lists_the_boolean_flag_keys()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var keys = await store.ListFlagKeysAsync(CancellationToken.None);

        Assert.Equal(new[] { "lab-results-v2", "legacy-export", "new-billing", "patient-portal-v2", "telehealth-video" }, keys);
    }

    [Fact]
    public async Task Environments_come_from_the_environments_endpoint()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var environments = await store.GetEnvironmentsAsync(CancellationToken.None);

        Assert.Equal(new[] { "staging", "production", "approvals" }, environments);
        Assert.Equal("/api/v2/projects/pms/environments", Assert.Single(kit.State.Requests).Path);
    }

    [Fact]
    public async Task Flag_status_is_read_per_environment()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var active = await store.GetFlagStatusAsync("production", "new-billing", CancellationToken.None);
        var inactive = await store.GetFlagStatusAsync("production", "patient-portal-v2", CancellationToken.None);
        var error = await Assert.ThrowsAsync<Common.FlagsException>(() => store.GetFlagStatusAsync("prod", "new-billing", CancellationToken.None));

        Assert.Equal("active", active.Name);
        Assert.NotNull(active.LastRequested);
        Assert.Equal("inactive", inactive.Name);
        Assert.Equal(LaunchDarklyErrorIds.EnvironmentNotFound, error.ErrorId);
    }
}
