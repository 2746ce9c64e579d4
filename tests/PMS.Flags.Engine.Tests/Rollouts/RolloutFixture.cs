using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>
/// A flag document and a ledger in a temp directory, a fake Prometheus, a clock moved by hand, and engines over them.
/// Each <see cref="NewEngine"/> builds everything afresh from the paths, as another process would.
/// </summary>
internal sealed class RolloutFixture : IDisposable
{
    public const string Flag = "telehealth_appointments_enabled";
    public const string Environment = "production";
    public const string ErrorQuery = "rate(http_requests_total{status=~\"5..\"}[5m])";
    public const string LatencyQuery = "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))";

    public static readonly GuardrailHttpOptions FastHttp = new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(5),
        MaxRetryAttempts = 1,
        RetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(5),
    };

    private readonly List<GuardrailFactory> factories = new();

    public RolloutFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "pms-flags-rollout-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        FlagPath = Path.Combine(Directory, "feature_flags.json");
        File.WriteAllText(FlagPath, """
            {
              "production": {
                "telehealth_appointments_enabled": false,
                "new_billing_engine": { "enabled": true, "rollout_percentage": 100, "owner": "billing" }
              },
              "staging": {
                "telehealth_appointments_enabled": false
              }
            }
            """);
        LedgerPath = Path.Combine(Directory, "audit.jsonl");
        SpoolPath = Path.Combine(Directory, "spool");
        Prometheus.Vector(ErrorQuery, ("status=500,handler=/api/appointments", "0.001"));
        Prometheus.Vector(LatencyQuery, ("handler=/api/appointments", "0.35"));
    }

    public string Directory { get; }

    public string FlagPath { get; }

    public string LedgerPath { get; }

    public string SpoolPath { get; }

    public FakePrometheus Prometheus { get; } = new();

    public ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2025, 3, 12, 9, 0, 0, TimeSpan.Zero));

    public List<string> Warnings { get; } = new();

    public LocalFileFlagStore Store() => new(FlagPath);

    public JsonlLedger Ledger() => new(LedgerPath);

    public AuditTrail Audit(IFlagStore? store = null)
        => new(Ledger(), new AuditSpool(SpoolPath), new DelegateOperationLog(_ => { }, w => { lock (Warnings) { Warnings.Add(w); } }, _ => { }));

    public GuardrailFactory Guardrails()
    {
        var factory = new GuardrailFactory(Prometheus, FastHttp, Clock);
        factories.Add(factory);
        return factory;
    }

    /// <summary>A fresh engine over the same files: what another process would build.</summary>
    public RolloutEngine NewEngine(IFlagStore? store = null, RolloutEngineOptions? options = null)
    {
        store ??= Store();
        return new RolloutEngine(store, Audit(store), Guardrails(), Clock, options);
    }

    public static GuardrailDefinition HighErrorRate(NoDataPolicy noData = NoDataPolicy.Pause) => GuardrailPresets.Create(GuardrailPresets.HighErrorRate, FakePrometheus.Url, noData);

    public static GuardrailDefinition SlowResponseTime(NoDataPolicy noData = NoDataPolicy.Pause) => GuardrailPresets.Create(GuardrailPresets.SlowResponseTime, FakePrometheus.Url, noData);

    public RolloutPlan Plan(IReadOnlyList<decimal>? stages = null, TimeSpan? bake = null, params GuardrailDefinition[] guardrails) => new()
    {
        RolloutId = RolloutPlan.NewRolloutId(Clock),
        Flag = Flag,
        Environment = Environment,
        Stages = stages ?? new[] { 5m, 25m, 50m, 100m },
        BakeTime = bake ?? TimeSpan.FromMinutes(30),
        Guardrails = guardrails,
        Reason = "Gradual rollout of telehealth appointments",
        ApprovalTicket = "TICKET-12345",
        User = "admin@pms.example.com",
    };

    public List<AuditEvent> Events(string? type = null)
        => Ledger().Read(type is null ? AuditQuery.All : new AuditQuery { EventTypes = new[] { type } }, CancellationToken.None).ToList();

    public async Task<FlagState> FlagState(string flag = Flag)
        => (await Store().GetFlagsAsync(Environment, flag, CancellationToken.None))[0];

    public (byte[] Flags, byte[]? Ledger) Snapshot()
        => (File.ReadAllBytes(FlagPath), File.Exists(LedgerPath) ? File.ReadAllBytes(LedgerPath) : null);

    public void Dispose()
    {
        foreach (var factory in factories)
        {
            factory.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
