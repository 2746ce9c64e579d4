using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>A cohort guardrail inside a rollout: bound to the rollout's flag, counting from the stage start, waiting for samples while the bake runs.</summary>
public sealed class CohortRolloutTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    private void Counts(GuardrailDefinition bound, TimeSpan window, params (string Variant, string Total, string Bad)[] cohorts)
    {
        var (bad, total) = CohortQueries.Build(bound, bound.Flag!, window);
        f.Prometheus.Vector(total, cohorts.Select(c => ($"{CohortQueries.DefaultVariantLabel}={c.Variant}", c.Total)).ToArray());
        f.Prometheus.Vector(bad, cohorts.Select(c => ($"{CohortQueries.DefaultVariantLabel}={c.Variant}", c.Bad)).ToArray());
    }

    [Fact]
    public async Task A_regression_of_the_exposed_cohort_rolls_back_at_stage_one_with_the_cohort_evidence_in_the_ledger()
    {
        var engine = f.NewEngine();
        var guardrail = GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30), guardrails: guardrail);
        var bound = plan.Guardrails[0];
        Assert.Equal(RolloutFixture.Flag, bound.Flag);
        Counts(bound, TimeSpan.FromMinutes(5), ("false", "15000", "75"));

        var started = await engine.StartAsync(plan, None);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);
        var stored = JObject.Parse(f.Events(RolloutEventTypes.Started)[0].Details!);
        Assert.Equal(RolloutFixture.Flag, (string?)stored["plan"]!["guardrails"]![0]!["flag"]);

        // 60 s into the stage: 150 exposed requests, fewer than 500, and 29 minutes of bake left: wait, do not pause.
        f.Clock.Advance(TimeSpan.FromSeconds(60));
        Counts(bound, TimeSpan.FromSeconds(60), ("true", "150", "3"), ("false", "2850", "14"));
        var early = await engine.StepAsync(plan.RolloutId, "scheduler", None);
        Assert.Equal(RolloutStepAction.Waiting, early.Action);
        Assert.Equal(GuardrailStatus.Pending, early.Guardrails[0].Status);
        Assert.StartsWith("collecting evidence: true 150, false 2850 requests", early.Guardrails[0].Reason);

        // Ten minutes in: the exposed cohort fails twice as often. The counts run from the stage start (600 s).
        f.Clock.Advance(TimeSpan.FromSeconds(540));
        Counts(bound, TimeSpan.FromSeconds(600), ("true", "1500", "15"), ("false", "28500", "143"));
        var later = await engine.StepAsync(plan.RolloutId, "scheduler", None);
        Assert.Equal(RolloutStepAction.Waiting, later.Action);
        Assert.Equal(GuardrailStatus.Healthy, later.Guardrails[0].Status);

        f.Clock.Advance(TimeSpan.FromSeconds(600));
        Counts(bound, TimeSpan.FromSeconds(1200), ("true", "3000", "31"), ("false", "57000", "285"));
        var breach = await engine.StepAsync(plan.RolloutId, "scheduler", None);
        Assert.Equal(RolloutStepAction.RolledBack, breach.Action);
        Assert.False((await f.FlagState()).On);
        Assert.Contains(f.Prometheus.Queries, q => q.EndsWith("[1200s]))", StringComparison.Ordinal));

        var breached = JObject.Parse(f.Events(RolloutEventTypes.GuardrailBreached).Single().Details!);
        var cohort = (JObject)breached["result"]!["cohort"]!;
        Assert.Equal(3000m, (decimal)cohort["treatment_requests"]!);
        Assert.Equal(31m, (decimal)cohort["treatment_bad"]!);
        Assert.Equal(57000m, (decimal)cohort["control_requests"]!);
        Assert.Equal(285m, (decimal)cohort["control_bad"]!);
        Assert.True((bool)cohort["concluded"]!);
        Assert.NotNull(cohort["since"]);
        Assert.True((decimal)cohort["statistic"]! >= (decimal)cohort["threshold"]!);
        var final = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(RolloutStatus.RolledBack, final.Status);
        Assert.Equal(1, final.StageNumber);
    }

    [Fact]
    public async Task Too_few_requests_when_the_bake_is_over_pause_the_rollout()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(stages: new[] { 5m, 100m }, bake: TimeSpan.FromMinutes(2), guardrails: GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate));
        var bound = plan.Guardrails[0];
        Counts(bound, TimeSpan.FromMinutes(5), ("false", "300", "0"));
        await engine.StartAsync(plan, None);

        f.Clock.Advance(TimeSpan.FromMinutes(2));
        Counts(bound, TimeSpan.FromMinutes(2), ("true", "6", "0"), ("false", "114", "1"));
        var step = await engine.StepAsync(plan.RolloutId, "scheduler", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Equal(GuardrailStatus.NoData, step.Guardrails[0].Status);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);
        Assert.Equal("no_data", (await f.NewEngine().GetAsync(plan.RolloutId, None)).PauseCause);
    }
}
