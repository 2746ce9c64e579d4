using System.Collections.Concurrent;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Flags.LaunchDarkly;
using PMS.Flags.TestServers.LaunchDarkly;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

/// <summary>One stand-in per test (port 0, in-process), a store against it, and everything the store logged.</summary>
internal sealed class LaunchDarklyTestKit : IAsyncDisposable
{
    /// <summary>Distinctive, so a leak anywhere is found by a plain substring search.</summary>
    public const string Token = "api-PMS-7f3a9c2e-NEVER-PRINT-ME";
    public const string ReadOnlyToken = "api-PMS-readonly-0b1d-NEVER-PRINT-ME";
    public const string Project = "pms";
    public const string NewBillingTrueId = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
    public const string NewBillingFalseId = "a00bf58d-d252-476c-b915-15a74becacb4";
    public const string NewBillingRuleId = "8f1c2b7e-9a41-4c3e-b1d2-5f0e6a7c9d10";

    /// <summary>Short delays so the suite stays fast; the 429 waits are still whatever the stand-in tells.</summary>
    public static readonly LaunchDarklyClientOptions FastOptions = new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(2),
        RetryBaseDelay = TimeSpan.FromMilliseconds(40),
        RetryMaxDelay = TimeSpan.FromMilliseconds(250),
        RateLimitJitter = TimeSpan.FromMilliseconds(80),
    };

    private readonly List<LaunchDarklyFlagStore> stores = new();

    private LaunchDarklyTestKit(LaunchDarklyStandIn standIn)
    {
        StandIn = standIn;
    }

    public LaunchDarklyStandIn StandIn { get; }

    public LaunchDarklyStandInState State => StandIn.State;

    public RecordingLog Log { get; } = new();

    private static readonly Lazy<Task> WarmUp = new(WarmUpAsync);

    public static async Task<LaunchDarklyTestKit> StartAsync()
    {
        await WarmUp.Value;
        return new(await LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token, ReadOnlyToken = ReadOnlyToken }));
    }

    public LaunchDarklyFlagStore Store(TimeSpan? budget = null, string token = Token, string project = Project, LaunchDarklyClientOptions? options = null)
    {
        using var accessToken = LaunchDarklyAccessToken.FromChars(token);
        var store = new LaunchDarklyFlagStore(project, StandIn.BaseUri, accessToken, budget ?? TimeSpan.FromSeconds(10), log: Log, clientOptions: options ?? FastOptions);
        stores.Add(store);
        return store;
    }

    public IReadOnlyList<RecordedRequest> Patches => State.Requests.Where(r => r.Method == "PATCH").ToArray();

    public JObject Flag(string key) => State.PeekFlag(Project, key) ?? throw new InvalidOperationException($"no flag {key}");

    public JObject Config(string key, string environment) => (JObject)Flag(key)["environments"]![environment]!;

    public long Version(string key, string environment) => Config(key, environment)["version"]!.Value<long>();

    public void Fault(string kind, int count = 1, int resetMs = 500, int retryAfterSeconds = 1, int delayMs = 1000, string phase = "before", string? method = null)
        => State.Faults.Add(new FaultSpec { Kind = kind, Count = count, ResetMs = resetMs, RetryAfterSeconds = retryAfterSeconds, DelayMs = delayMs, Phase = phase, Method = method });

    public static FlagChange SetPercentage(string flag, string environment, decimal percentage, string? rule = null)
        => new(flag, environment, FlagChangeKind.SetPercentage, percentage, "PMS.Flags: CHG-4711 — ramp after canary review", rule);

    public static FlagChange TurnOff(string flag, string environment)
        => new(flag, environment, FlagChangeKind.TurnOff, null, "PMS.Flags: INC-99 — error rate above guardrail");

    public static FlagChange TurnOn(string flag, string environment)
        => new(flag, environment, FlagChangeKind.TurnOn, null, "PMS.Flags: CHG-4712 — enable");

    /// <summary>
    /// The first request of a test process pays about a second of JIT before it leaves the process. Paid once here, so
    /// it cannot eat the short budgets some tests give an operation.
    /// </summary>
    private static async Task WarmUpAsync()
    {
        await using var standIn = await LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token });
        using var token = LaunchDarklyAccessToken.FromChars(Token);
        using var store = new LaunchDarklyFlagStore(Project, standIn.BaseUri, token, TimeSpan.FromSeconds(60), clientOptions: FastOptions);
        await store.GetFlagsAsync("production", null, CancellationToken.None);
        await store.ApplyAsync(SetPercentage("new-billing", "production", 30m), CancellationToken.None);
        await store.PreviewAsync(TurnOff("new-billing", "production"), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores)
        {
            store.Dispose();
        }

        await StandIn.DisposeAsync();
    }

    internal sealed class RecordingLog : IOperationLog
    {
        private readonly ConcurrentQueue<string> lines = new();

        public IReadOnlyList<string> Lines => lines.ToArray();

        public void Verbose(string message) => lines.Enqueue("VERBOSE: " + message);

        public void Warning(string message) => lines.Enqueue("WARNING: " + message);

        public void Debug(string message) => lines.Enqueue("DEBUG: " + message);
    }
}
