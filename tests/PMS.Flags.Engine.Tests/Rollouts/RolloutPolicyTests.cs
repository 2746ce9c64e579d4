using System.Net;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>What a rollout does when a guardrail cannot judge: no data, NaN, low traffic, Prometheus down or refusing the query.</summary>
public sealed class RolloutPolicyTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    private async Task<(RolloutEngine Engine, RolloutPlan Plan)> StartedWith(GuardrailDefinition guardrail)
    {
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: guardrail);
        await engine.StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        return (engine, plan);
    }

    [Fact]
    public async Task No_data_pauses_by_default_and_never_advances()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.HighErrorRate());
        f.Prometheus.Vector(RolloutFixture.ErrorQuery);

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Equal("no_data", step.State.PauseCause);
        Assert.Equal(GuardrailStatus.NoData, step.Guardrails[0].Status);
        Assert.Contains("no series", step.Reason);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);
        Assert.Empty(f.Events(RolloutEventTypes.GuardrailBreached));
        Assert.Single(f.Events(RolloutEventTypes.StageAdvanced));
    }

    [Fact]
    public async Task Only_NaN_samples_are_no_data_too()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.SlowResponseTime());
        f.Prometheus.Vector(RolloutFixture.LatencyQuery, ("handler=/a", "NaN"), ("handler=/b", "NaN"));

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Contains("NaN", step.Guardrails[0].Reason);
    }

    [Fact]
    public async Task No_data_under_Fail_rolls_a_critical_guardrail_back()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.HighErrorRate(NoDataPolicy.Fail));
        f.Prometheus.Vector(RolloutFixture.ErrorQuery);

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.RolledBack, step.Action);
        Assert.False((await f.FlagState()).On);
        Assert.Equal("no_data", (string?)JObject.Parse(Assert.Single(f.Events(RolloutEventTypes.RolledBack)).Details!)["cause"]);
    }

    [Fact]
    public async Task No_data_under_Pass_continues()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.HighErrorRate(NoDataPolicy.Pass));
        f.Prometheus.Vector(RolloutFixture.ErrorQuery);

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Advanced, step.Action);
        Assert.Contains("passed by policy", step.Reason);
        Assert.Equal(25m, (await f.FlagState()).EffectivePercentage);
        Assert.Equal("nodata", f.Events(RolloutEventTypes.GuardrailEvaluated).Last().Outcome);
    }

    [Fact]
    public async Task Prometheus_down_pauses_by_default_and_even_under_Pass_it_never_advances_silently()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.HighErrorRate(NoDataPolicy.Pass));
        f.Prometheus.Down = true;

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Equal(GuardrailStatus.Error, step.Guardrails[0].Status);
        Assert.Contains("unreachable", step.Guardrails[0].Reason);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);
        var evaluated = f.Events(RolloutEventTypes.GuardrailEvaluated).Last();
        Assert.Equal("error", evaluated.Outcome);
    }

    [Fact]
    public async Task Prometheus_down_through_a_real_socket_is_an_error_not_an_exception()
    {
        // A closed port on loopback: connection refused, quickly, without the fake.
        var port = FreePort.Next();
        // NoData Pass, or the rollout would not start at all (see the fail-closed test below); an unreachable source
        // still pauses a Step under Pass.
        var definition = GuardrailDefinition.ForPrometheus("HighErrorRate", new Uri($"http://127.0.0.1:{port}/"), RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical, NoDataPolicy.Pass);
        var engine = new RolloutEngine(f.Store(), f.Audit(), new GuardrailFactory(null, RolloutFixture.FastHttp, f.Clock), f.Clock);
        var plan = f.Plan(bake: TimeSpan.Zero, guardrails: definition);
        await engine.StartAsync(plan, None);

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Equal(GuardrailStatus.Error, step.Guardrails[0].Status);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);
    }

    [Theory]
    [InlineData(NoDataPolicy.Pause)]
    [InlineData(NoDataPolicy.Fail)]
    public async Task A_rollout_does_not_start_while_a_guardrail_that_does_not_pass_on_no_data_has_none(NoDataPolicy policy)
    {
        var definition = GuardrailDefinition.ForPrometheus("HighErrorRate", new Uri($"http://127.0.0.1:{FreePort.Next()}/"), RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical, policy);
        using var realSockets = new GuardrailFactory(null, RolloutFixture.FastHttp, f.Clock);
        var engine = new RolloutEngine(f.Store(), f.Audit(), realSockets, f.Clock);
        var before = f.Snapshot();

        var refused = await Assert.ThrowsAsync<PMS.Flags.Engine.Common.FlagsException>(() => engine.StartAsync(f.Plan(guardrails: definition), None));

        Assert.Equal("RolloutGuardrailNoData", refused.ErrorId);
        var after = f.Snapshot();
        Assert.Equal(before.Flags, after.Flags);
        Assert.Equal(before.Ledger, after.Ledger);
    }

    [Fact]
    public async Task A_query_rejected_in_the_middle_of_a_rollout_makes_the_guardrail_blind_and_pauses()
    {
        var (engine, plan) = await StartedWith(RolloutFixture.HighErrorRate());
        f.Prometheus.Error(RolloutFixture.ErrorQuery, HttpStatusCode.BadRequest, "bad_data", "invalid parameter \"query\": 1:6: parse error: unexpected end of input");

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Contains("parse error", step.Guardrails[0].Reason);
    }

    [Fact]
    public async Task Traffic_below_the_minimum_does_not_count_and_with_enough_traffic_an_empty_error_rate_is_healthy()
    {
        const string traffic = "sum(rate(http_requests_total[5m]))";
        var guardrail = GuardrailPresets.Create(GuardrailPresets.HighErrorRate, FakePrometheus.Url, NoDataPolicy.Pause, traffic, 1);
        f.Prometheus.Vector(traffic, ("", "42")); // a rollout starts only on a guardrail that sees data
        var (engine, plan) = await StartedWith(guardrail);
        f.Prometheus.Vector(RolloutFixture.ErrorQuery);
        f.Prometheus.Vector(traffic, ("", "0.2"));

        var low = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.Paused, low.Action);
        Assert.Equal(GuardrailStatus.NoData, low.Guardrails[0].Status);
        Assert.Contains("below minimum traffic", low.Guardrails[0].Reason);
        Assert.False(low.Guardrails[0].Counted);

        await engine.ResumeAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "traffic is back" }, None);
        f.Prometheus.Vector(traffic, ("", "42"));
        var enough = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(GuardrailStatus.Healthy, enough.Guardrails[0].Status);
        Assert.Equal(RolloutStepAction.Advanced, enough.Action);
    }

    [Fact]
    public async Task A_multi_series_breach_names_the_breaching_series_in_the_ledger()
    {
        var (engine, plan) = await StartedWith(GuardrailDefinition.ForPrometheus("SlowResponseTime", FakePrometheus.Url, RolloutFixture.LatencyQuery, GuardrailOperator.GreaterThan, 2, TimeSpan.Zero, GuardrailSeverity.Warning));
        f.Prometheus.Vector(
            RolloutFixture.LatencyQuery,
            ("handler=/api/appointments,method=GET", "0.4"),
            ("handler=/api/telehealth/session,method=POST", "3.2"),
            ("handler=/health,method=GET", "NaN"));

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        var result = step.Guardrails[0];
        Assert.Equal(3, result.Series.Count);
        var breaching = Assert.Single(result.BreachingSeries);
        Assert.Equal("{handler=\"/api/telehealth/session\", method=\"POST\"}", breaching.Key);
        Assert.Equal(3.2, result.Value);
        var breach = Assert.Single(f.Events(RolloutEventTypes.GuardrailBreached));
        Assert.Contains("{handler=\"/api/telehealth/session\", method=\"POST\"} = 3.2", breach.Reason);
        Assert.DoesNotContain("/api/appointments", (string?)JObject.Parse(breach.Details!)["series"]![0]);
    }
}
