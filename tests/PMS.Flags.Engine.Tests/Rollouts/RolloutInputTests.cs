using System.Net;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>Bad inputs fail with their ErrorId before anything changes: the flag file and the ledger stay byte-identical.</summary>
public sealed class RolloutInputTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    private async Task AssertRefused(string errorId, Func<Task> action)
    {
        var before = f.Snapshot();
        var error = await Assert.ThrowsAsync<FlagsException>(action);
        Assert.Equal(errorId, error.ErrorId);
        var after = f.Snapshot();
        Assert.Equal(before.Flags, after.Flags);
        Assert.Equal(before.Ledger, after.Ledger);
    }

    public static TheoryData<string, decimal[], double> BadPlans => new()
    {
        { "RolloutStagesNotIncreasing", new[] { 5m, 50m, 25m, 100m }, 30 },
        { "RolloutStagesNotIncreasing", new[] { 5m, 5m, 100m }, 30 },
        { "RolloutStageOutOfRange", new[] { 0m, 50m, 100m }, 30 },
        { "RolloutStageOutOfRange", new[] { 5m, 50m, 150m }, 30 },
        { "RolloutStageOutOfRange", new[] { -5m, 50m }, 30 },
        { "RolloutStagesRequired", Array.Empty<decimal>(), 30 },
        { "PercentageTooPrecise", new[] { 5.0001m, 100m }, 30 },
        { "RolloutBakeTimeNegative", new[] { 5m, 25m, 50m, 100m }, -1 },
    };

    [Theory]
    [MemberData(nameof(BadPlans))]
    public async Task A_bad_plan_is_refused_with_its_ErrorId_and_nothing_changes(string errorId, decimal[] stages, double bakeMinutes)
    {
        var plan = f.Plan(stages, TimeSpan.FromMinutes(bakeMinutes), RolloutFixture.HighErrorRate());
        await AssertRefused(errorId, () => f.NewEngine().StartAsync(plan, None));
        await AssertRefused(errorId, () => f.NewEngine().PreviewAsync(plan, None));
    }

    [Fact]
    public async Task The_same_refusals_hold_on_a_ledger_that_already_has_history()
    {
        var engine = f.NewEngine();
        var first = f.Plan();
        await engine.StartAsync(first, None);

        await AssertRefused("RolloutAlreadyActive", () => f.NewEngine().StartAsync(f.Plan(), None));
        await AssertRefused("RolloutStagesNotIncreasing", () => f.NewEngine().StartAsync(f.Plan(new[] { 50m, 25m }), None));

        // Paused is still active.
        await engine.SuspendAsync(first.RolloutId, new RolloutActor { User = "u", Reason = "r" }, None);
        await AssertRefused("RolloutAlreadyActive", () => f.NewEngine().StartAsync(f.Plan(), None));
    }

    [Fact]
    public void An_unknown_preset_is_refused()
    {
        var error = Assert.Throws<FlagsException>(() => GuardrailPresets.Create("HighErrorRatio", FakePrometheus.Url));
        Assert.Equal("GuardrailPresetUnknown", error.ErrorId);
        Assert.Contains("HighErrorRate, SlowResponseTime", error.Message);
    }

    [Fact]
    public async Task Malformed_PromQL_answered_with_a_Prometheus_error_is_refused_at_start_with_Prometheus_message()
    {
        const string broken = "rate(http_requests_total{status=~\"5..\"}[5m]";
        f.Prometheus.Error(broken, HttpStatusCode.BadRequest, "bad_data", "invalid parameter \"query\": 1:45: parse error: unclosed left parenthesis");
        var guardrail = GuardrailDefinition.ForPrometheus("Errors", FakePrometheus.Url, broken, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);

        await AssertRefused("PrometheusQueryRejected", () => f.NewEngine().StartAsync(f.Plan(guardrails: guardrail), None));
        var error = await Assert.ThrowsAsync<FlagsException>(() => f.NewEngine().StartAsync(f.Plan(guardrails: guardrail), None));
        Assert.Contains("unclosed left parenthesis", error.Message);
        Assert.Contains("bad_data", error.Message);
    }

    [Fact]
    public async Task Other_refusals_name_themselves()
    {
        await AssertRefused("ApprovalTicketRequired", () => f.NewEngine().StartAsync(WithTicket(f.Plan(), null), None));
        await AssertRefused("FlagNotFound", () => f.NewEngine().StartAsync(WithFlag(f.Plan(), "no_such_flag"), None));
        await AssertRefused("RolloutFlagAboveFirstStage", () => f.NewEngine().StartAsync(WithFlag(f.Plan(), "new_billing_engine"), None));
        await AssertRefused("GuardrailNameDuplicate", () => f.NewEngine().StartAsync(f.Plan(guardrails: new[] { RolloutFixture.HighErrorRate(), RolloutFixture.HighErrorRate() }), None));
        var plan = f.Plan();
        await f.NewEngine().StartAsync(plan, None);
        await f.NewEngine().StopAsync(plan.RolloutId, new RolloutActor { User = "u", Reason = "r" }, None);
        await AssertRefused("RolloutIdInUse", () => f.NewEngine().StartAsync(plan, None));
        await AssertRefused("RolloutNotActive", () => f.NewEngine().ResumeAsync(plan.RolloutId, new RolloutActor { User = "u", Reason = "r" }, None));
        await AssertRefused("ReasonRequired", () => f.NewEngine().SuspendAsync(plan.RolloutId, new RolloutActor { User = "u", Reason = " " }, None));
        await AssertRefused("RolloutNotFound", () => f.NewEngine().StepAsync("ro-missing", "ci", None));

        var other = new PMS.Flags.Engine.Flags.LocalFileFlagStore(Path.Combine(f.Directory, "..", Path.GetFileName(f.Directory), ".", "feature_flags.json"));
        var running = f.Plan();
        await f.NewEngine().StartAsync(running, None);
        var copy = Path.Combine(f.Directory, "copy.json");
        File.Copy(f.FlagPath, copy);
        var copyBefore = File.ReadAllBytes(copy);
        await AssertRefused("RolloutStoreMismatch", () => f.NewEngine(new PMS.Flags.Engine.Flags.LocalFileFlagStore(copy)).StepAsync(running.RolloutId, "ci", None));
        Assert.Equal(copyBefore, File.ReadAllBytes(copy)); // the store the refused step was pointed at
        Assert.Equal(other.Name, f.Store().Name); // the same file under another spelling is the same store
    }

    private static RolloutPlan WithTicket(RolloutPlan p, string? ticket) => new()
    {
        RolloutId = p.RolloutId, Flag = p.Flag, Environment = p.Environment, Stages = p.Stages, BakeTime = p.BakeTime, Guardrails = p.Guardrails, Reason = p.Reason, ApprovalTicket = ticket, User = p.User,
    };

    private static RolloutPlan WithFlag(RolloutPlan p, string flag) => new()
    {
        RolloutId = p.RolloutId, Flag = flag, Environment = p.Environment, Stages = p.Stages, BakeTime = p.BakeTime, Guardrails = p.Guardrails, Reason = p.Reason, ApprovalTicket = p.ApprovalTicket, User = p.User,
    };
}
