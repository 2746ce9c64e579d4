using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags.LaunchDarkly;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

/// <summary>
/// Retries through the one pipeline. "Never earlier than told" is read from the stand-in's own request log (its
/// recorded times and its rate-limit window), not from the test's clock; nothing here bounds how fast anything was.
/// </summary>
public sealed class LaunchDarklyResilienceTests
{
    [Fact]
    public async Task A_429_with_X_Ratelimit_Reset_is_waited_out_then_the_change_succeeds()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("429-reset", resetMs: 600);

        var result = await store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None);

        Assert.True(kit.Patches[1].Time - kit.Patches[0].Time >= TimeSpan.FromMilliseconds(599), $"retried after {(kit.Patches[1].Time - kit.Patches[0].Time).TotalMilliseconds} ms, told 600 ms (millisecond header)");
        Assert.False(result.Current.On);
        Assert.Equal(2, kit.Patches.Count);
        Assert.DoesNotContain(kit.State.Requests, r => r.Early);
        Assert.Equal(new[] { 429, 200 }, kit.Patches.Select(p => p.Status));
        Assert.Single(kit.State.Audit);
        Assert.Contains(kit.Log.Lines, l => l.StartsWith("WARNING:", StringComparison.Ordinal) && l.Contains("X-Ratelimit-Reset", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_then_the_change_succeeds()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("429-retry-after", retryAfterSeconds: 1);

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", 35m), CancellationToken.None);

        var requests = kit.State.Requests;
        Assert.True(requests[1].Time - requests[0].Time >= TimeSpan.FromSeconds(1), $"retried after {(requests[1].Time - requests[0].Time).TotalMilliseconds} ms, told 1 s");
        Assert.Equal(35m, result.Current.Percentage);
        Assert.DoesNotContain(kit.State.Requests, r => r.Early);
        Assert.Equal(new[] { 429, 200, 200 }, kit.State.Requests.Select(r => r.Status)); // GET limited, GET, PATCH
        Assert.Single(kit.State.Audit);
    }

    [Fact]
    public async Task A_rate_limit_longer_than_the_budget_fails_at_once_and_changes_nothing()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(budget: TimeSpan.FromSeconds(2));
        kit.Fault("429-reset", resetMs: 120_000);
        var before = kit.Flag("new-billing");

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.BudgetExhausted, error.ErrorId);
        Assert.Contains("No change was made", error.Message);
        Assert.Contains("rate_limited", error.Message);
        Assert.False(error.ChangeWasMade);
        Assert.NotNull(kit.State.Faults.ActiveRateLimit(DateTimeOffset.UtcNow)); // gave up inside the window: did not sleep into a wait it could not afford
        Assert.Single(kit.Patches);
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task Server_errors_until_the_budget_runs_out_say_no_change_was_confirmed()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(budget: TimeSpan.FromSeconds(6));
        kit.Fault("503", count: 1000);
        var before = kit.Flag("new-billing");

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.BudgetExhausted, error.ErrorId);
        Assert.Contains("No change was confirmed", error.Message);
        Assert.Contains("503", error.Message);
        Assert.True(kit.Patches.Count >= 2, "5xx is retried");
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task A_budget_used_up_by_the_read_never_sends_the_change()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(budget: TimeSpan.FromMilliseconds(600));
        kit.Fault("503", count: 1000, method: "GET");

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(SetPercentage("new-billing", "production", 50m), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.BudgetExhausted, error.ErrorId);
        Assert.Contains("this was a read", error.Message);
        Assert.Empty(kit.Patches);
    }

    [Fact]
    public async Task Two_server_errors_then_success_apply_the_change_once()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("500", count: 1, method: "PATCH");
        kit.Fault("503", count: 1, method: "PATCH");

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", 50m), CancellationToken.None);

        Assert.Equal(50m, result.Current.Percentage);
        Assert.Equal(new[] { 500, 503, 200 }, kit.Patches.Select(p => p.Status));
        Assert.Single(kit.State.Audit);
        Assert.Equal(13, kit.Version("new-billing", "production"));
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("drop", method: "PATCH");

        var result = await store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None);

        Assert.False(result.Current.On);
        Assert.Equal(2, kit.Patches.Count);
        Assert.Equal("drop", kit.Patches[0].Fault);
        Assert.Single(kit.State.Audit);
    }

    [Fact]
    public async Task A_change_whose_answer_was_lost_is_resent_safely_and_applied_once()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("drop", method: "PATCH", phase: "after"); // applied, then the connection is cut

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", 70m), CancellationToken.None);

        Assert.Equal(70m, result.Current.Percentage);
        Assert.Equal(2, kit.Patches.Count);
        Assert.Single(kit.State.Audit);
        Assert.Equal(13, kit.Version("new-billing", "production"));
    }

    [Fact]
    public async Task A_conflict_is_retried_for_a_semantic_patch()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        kit.Fault("409", method: "PATCH");

        var result = await store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None);

        Assert.False(result.Current.On);
        Assert.Equal(new[] { 409, 200 }, kit.Patches.Select(p => p.Status));
    }

    [Fact]
    public async Task A_hung_attempt_times_out_and_is_retried()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(options: new LaunchDarklyClientOptions
        {
            AttemptTimeout = TimeSpan.FromMilliseconds(300),
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        });
        kit.Fault("delay", delayMs: 1500, method: "GET");

        var flags = await store.GetFlagsAsync("production", "new-billing", CancellationToken.None);

        Assert.Equal(25m, flags[0].Percentage);
        var gets = kit.State.Requests.Where(r => r.Method == "GET").ToArray();
        Assert.True(gets.Length >= 2);
        Assert.Equal("delay", gets[0].Fault);
        Assert.Contains(kit.Log.Lines, l => l.Contains("no answer within", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancellation_stops_a_rate_limit_wait_and_is_not_reported_as_a_budget_problem()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store(budget: TimeSpan.FromSeconds(60));
        kit.Fault("429-reset", resetMs: 30_000);
        using var cancel = new CancellationTokenSource();

        // Cancel once the stand-in has refused the change, i.e. while the client waits for the reset -- not after a fixed
        // delay, which a busy machine can spend before the first request is even sent.
        var apply = store.ApplyAsync(TurnOff("new-billing", "production"), cancel.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (kit.Patches.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => apply);

        Assert.Single(kit.Patches);
        Assert.Empty(kit.State.Audit);
    }
}
