using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Flags.LaunchDarkly;
using PMS.Flags.TestServers.LaunchDarkly;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

public sealed class LaunchDarklyErrorTests
{
    [Fact]
    public async Task A_wrong_key_is_LaunchDarklyUnauthorized_and_the_message_carries_LaunchDarklys_code_and_request_id()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        const string wrong = "api-WRONG-KEY-5e1f-NEVER-PRINT-ME";
        var store = kit.Store(token: wrong);

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", "new-billing", CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.Unauthorized, error.ErrorId);
        Assert.Equal(FlagsErrorKind.AuthenticationError, error.Kind);
        Assert.Contains("401 unauthorized", error.Message);
        Assert.Contains("request id", error.Message);
        Assert.DoesNotContain(wrong, error.ToString());
        Assert.Equal("invalid", Assert.Single(kit.State.Requests).Authorization); // 401 is not retried
    }

    [Fact]
    public async Task A_read_only_key_may_read_but_a_change_is_LaunchDarklyForbidden()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(token: ReadOnlyToken);

        var flags = await store.GetFlagsAsync("production", "new-billing", CancellationToken.None);
        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));

        Assert.Single(flags);
        Assert.Equal(LaunchDarklyErrorIds.Forbidden, error.ErrorId);
        Assert.Contains("403 forbidden", error.Message);
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task An_environment_that_requires_approval_is_ApprovalRequired_after_exactly_one_attempt()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOn("new-billing", "approvals"), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.ApprovalRequired, error.ErrorId);
        Assert.Contains("approval request", error.Message);
        Assert.Contains("method_not_allowed", error.Message);
        Assert.Contains("/api/v2/projects/pms/flags/new-billing/environments/approvals/approval-requests", error.Message);
        var patch = Assert.Single(kit.Patches);
        Assert.Equal(405, patch.Status);
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task Turning_off_in_an_approval_environment_is_not_retried_either()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        var before = kit.Flag("new-billing");

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "approvals"), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.ApprovalRequired, error.ErrorId);
        Assert.Single(kit.State.Requests);
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task An_unknown_project_is_ProjectNotFound()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(project: "no-such-project");

        var read = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", "new-billing", CancellationToken.None));
        var environments = await Assert.ThrowsAsync<FlagsException>(() => store.GetEnvironmentsAsync(CancellationToken.None));
        var off = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));

        Assert.All(new[] { read, environments, off }, e => Assert.Equal(LaunchDarklyErrorIds.ProjectNotFound, e.ErrorId));
        Assert.Contains("not_found", read.Message);
    }

    [Fact]
    public async Task An_unknown_flag_is_FlagNotFound_for_reads_and_changes()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var read = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", "no-such-flag", CancellationToken.None));
        var set = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(SetPercentage("no-such-flag", "production", 5m), CancellationToken.None));
        var off = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("no-such-flag", "production"), CancellationToken.None));

        Assert.All(new[] { read, set, off }, e => Assert.Equal(LaunchDarklyErrorIds.FlagNotFound, e.ErrorId));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task An_unknown_environment_is_EnvironmentNotFound_for_reads_lists_and_changes()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var read = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("prod", "new-billing", CancellationToken.None));
        var list = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("prod", null, CancellationToken.None));
        var set = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(SetPercentage("new-billing", "prod", 5m), CancellationToken.None));
        var off = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "prod"), CancellationToken.None));

        Assert.All(new[] { read, list, set, off }, e => Assert.Equal(LaunchDarklyErrorIds.EnvironmentNotFound, e.ErrorId));
        Assert.Contains("Known environments: staging, production, approvals", read.Message);
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task An_unknown_environment_answered_with_404_is_still_EnvironmentNotFound()
    {
        await using var standIn = await LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token, UnknownEnvironmentIs404 = true });
        using var token = LaunchDarklyAccessToken.FromChars(Token);
        using var store = new LaunchDarklyFlagStore(Project, standIn.BaseUri, token, clientOptions: FastOptions);

        var unknownEnvironment = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("prod", "new-billing", CancellationToken.None));
        var unknownFlag = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", "no-such-flag", CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.EnvironmentNotFound, unknownEnvironment.ErrorId);
        Assert.Equal(LaunchDarklyErrorIds.FlagNotFound, unknownFlag.ErrorId);
    }

    [Fact]
    public async Task A_non_boolean_flag_is_FlagNotBoolean_and_is_not_changed()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var read = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", "checkout-theme", CancellationToken.None));
        var set = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(SetPercentage("checkout-theme", "production", 50m), CancellationToken.None));
        var on = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOn("checkout-theme", "production"), CancellationToken.None));

        Assert.All(new[] { read, set, on }, e => Assert.Equal(LaunchDarklyErrorIds.FlagNotBoolean, e.ErrorId));
        Assert.Empty(kit.Patches);
    }

    [Theory]
    [InlineData("http://example.com")]
    [InlineData("http://10.1.2.3:8080")]
    [InlineData("http://localhost.example.com")]
    [InlineData("http://127.0.0.1.nip.io")]
    public void Plain_http_to_a_non_loopback_host_is_InsecureBaseUri(string uri)
    {
        using var token = LaunchDarklyAccessToken.FromChars(Token);

        var error = Assert.Throws<FlagsException>(() => new LaunchDarklyFlagStore("pms", new Uri(uri), token));

        Assert.Equal(LaunchDarklyErrorIds.InsecureBaseUri, error.ErrorId);
        Assert.DoesNotContain(Token, error.ToString());
    }

    [Theory]
    [InlineData("https://app.launchdarkly.com")]
    [InlineData("https://app.launchdarkly.us/")]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://127.8.9.10")]
    [InlineData("http://localhost:1234")]
    [InlineData("http://[::1]:1234")]
    public void Https_and_loopback_http_are_accepted(string uri)
    {
        using var token = LaunchDarklyAccessToken.FromChars(Token);
        using var store = new LaunchDarklyFlagStore("pms", new Uri(uri), token);

        Assert.StartsWith("LaunchDarkly:pms@", store.Name);
    }

    [Theory]
    [InlineData("ftp://app.launchdarkly.com")]
    [InlineData("https://user:pw@app.launchdarkly.com")]
    public void Other_schemes_and_user_info_are_InvalidBaseUri(string uri)
    {
        using var token = LaunchDarklyAccessToken.FromChars(Token);

        var error = Assert.Throws<FlagsException>(() => new LaunchDarklyFlagStore("pms", new Uri(uri), token));

        Assert.Equal(LaunchDarklyErrorIds.InvalidBaseUri, error.ErrorId);
        Assert.DoesNotContain("pw", error.Message);
    }

    [Fact]
    public void A_token_a_header_cannot_carry_is_refused_without_echoing_it()
    {
        var error = Assert.Throws<FlagsException>(() => LaunchDarklyAccessToken.FromChars("api-abc\r\nX-Evil: 1"));

        Assert.Equal(LaunchDarklyErrorIds.TokenInvalid, error.ErrorId);
        Assert.DoesNotContain("X-Evil", error.Message);
        Assert.Equal(LaunchDarklyErrorIds.TokenMissing, Assert.Throws<FlagsException>(() => LaunchDarklyAccessToken.FromChars("")).ErrorId);
    }

    [Fact]
    public async Task The_token_never_appears_in_errors_ToString_properties_logs_or_the_stand_ins_records()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        var hurried = kit.Store(budget: TimeSpan.FromMilliseconds(700));
        var seen = new List<string>();

        async Task Capture(Func<Task> action)
        {
            try
            {
                await action();
            }
            catch (Exception ex)
            {
                seen.Add(ex.ToString());
                for (var inner = ex; inner is not null; inner = inner.InnerException)
                {
                    seen.Add(inner.Message);
                }
            }
        }

        await Capture(() => store.GetFlagsAsync("production", "no-such-flag", CancellationToken.None));
        await Capture(() => store.ApplyAsync(TurnOn("new-billing", "approvals"), CancellationToken.None));
        await Capture(() => store.ApplyAsync(SetPercentage("checkout-theme", "production", 5m), CancellationToken.None));
        kit.Fault("503", count: 1000);
        await Capture(() => hurried.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));
        kit.State.Faults.Clear();
        kit.Fault("429-reset", resetMs: 5000);
        await Capture(() => hurried.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));
        kit.State.Faults.Clear();
        await Task.Delay(50);
        var result = await store.ApplyAsync(SetPercentage("new-billing", "staging", 20m), CancellationToken.None);
        using var token = LaunchDarklyAccessToken.FromChars(Token);
        using var client = new LaunchDarklyClient(kit.StandIn.BaseUri, token);

        seen.Add(store.ToString());
        seen.Add(store.Name);
        seen.Add(token.ToString()!);
        seen.Add(client.ToString());
        seen.Add(result.Current.ToString());
        seen.Add(Newtonsoft.Json.JsonConvert.SerializeObject(result));
        seen.Add(Newtonsoft.Json.JsonConvert.SerializeObject(new { store.Kind, store.Name, store.ProjectKey, store.BaseUri, store.Budget, store.DefaultEnvironment }));
        seen.AddRange(typeof(LaunchDarklyFlagStore).GetProperties().Select(p => p.GetValue(store)?.ToString() ?? ""));
        seen.AddRange(typeof(LaunchDarklyClient).GetProperties().Select(p => p.GetValue(client)?.ToString() ?? ""));
        seen.AddRange(kit.Log.Lines);
        seen.Add(JArray.FromObject(kit.State.Requests).ToString());

        Assert.True(seen.Count > 20);
        Assert.All(seen, text => Assert.DoesNotContain(Token, text));
        Assert.All(seen, text => Assert.DoesNotContain("7f3a9c2e", text));
        Assert.Contains(seen, s => s.Contains("approval", StringComparison.Ordinal)); // the errors did happen
        Assert.Contains(seen, s => s.Contains(LaunchDarklyErrorIds.BudgetExhausted, StringComparison.Ordinal) || s.Contains("budget", StringComparison.Ordinal));
        Assert.DoesNotContain(kit.Log.Lines, l => l.Contains("sdk-", StringComparison.Ordinal)); // environments' SDK keys never surface
    }
}
