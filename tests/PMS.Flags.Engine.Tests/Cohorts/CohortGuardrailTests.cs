using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Tests.Guardrails;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>A cohort guardrail against Prometheus' wire format: the queries it sends, its verdicts, and the configurations it refuses.</summary>
public sealed class CohortGuardrailTests : IDisposable
{
    private const string Flag = "telehealth_appointments_enabled";
    private const string Variant = CohortQueries.DefaultVariantLabel;
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakePrometheus prometheus = new();
    private readonly ManualTimeProvider clock = new(new DateTimeOffset(2025, 3, 12, 9, 0, 0, TimeSpan.Zero));
    private readonly GuardrailFactory factory;

    public CohortGuardrailTests() => factory = new GuardrailFactory(prometheus, RolloutFixture.FastHttp, clock);

    public void Dispose() => factory.Dispose();

    private static GuardrailDefinition ErrorRate(string? flag = Flag, string treatment = "true", long minimumSamples = 500)
        => GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate, flag: flag, treatment: treatment, minimumSamples: minimumSamples);

    /// <summary>Answers the definition's two queries for a counting window with per-variant counts.</summary>
    private void Counts(GuardrailDefinition definition, TimeSpan window, params (string Variant, string Total, string Bad)[] cohorts)
    {
        var (bad, total) = CohortQueries.Build(definition, definition.Flag!, window);
        prometheus.Vector(total, cohorts.Select(c => ($"{Variant}={c.Variant}", c.Total)).ToArray());
        prometheus.Vector(bad, cohorts.Where(c => c.Bad != "").Select(c => ($"{Variant}={c.Variant}", c.Bad)).ToArray());
    }

    [Fact]
    public void The_presets_ask_for_5xx_and_for_slow_requests_per_variant_with_OpenTelemetry_label_names()
    {
        var errors = CohortQueries.Build(ErrorRate(), Flag, TimeSpan.FromMinutes(5));
        Assert.Equal("sum by (feature_flag_result_variant) (increase(http_requests_total{feature_flag_key=\"telehealth_appointments_enabled\",status=~\"5..\"}[300s]))", errors.Bad);
        Assert.Equal("sum by (feature_flag_result_variant) (increase(http_requests_total{feature_flag_key=\"telehealth_appointments_enabled\"}[300s]))", errors.Total);

        var slow = CohortQueries.Build(GuardrailDefinition.ForCohort(FakePrometheus.Url, "cohortslowrequests", flag: "a\"b"), "a\"b", TimeSpan.FromSeconds(90.2));
        Assert.Equal("sum by (feature_flag_result_variant) (increase(http_request_duration_seconds_count{feature_flag_key=\"a\\\"b\"}[91s])) - sum by (feature_flag_result_variant) (increase(http_request_duration_seconds_bucket{feature_flag_key=\"a\\\"b\",le=~\"2|2\\\\.0\"}[91s]))", slow.Bad);
        Assert.Equal("sum by (feature_flag_result_variant) (increase(http_request_duration_seconds_count{feature_flag_key=\"a\\\"b\"}[91s]))", slow.Total);

        var custom = GuardrailDefinition.ForCohort(FakePrometheus.Url, null, name: "Checkout", flag: "f", badQuery: "sum by (v) (increase(bad{flag=\"$flag\"}[$window]))", totalQuery: "sum by (v) (increase(all[$window]))", variantLabel: "v");
        Assert.Equal(("sum by (v) (increase(bad{flag=\"f\"}[60s]))", "sum by (v) (increase(all[60s]))"), CohortQueries.Build(custom, "f", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Equal_cohorts_with_enough_requests_are_healthy_and_the_evidence_has_both_cohorts()
    {
        var g = ErrorRate();
        Counts(g, TimeSpan.FromMinutes(5), ("true", "1000", "10"), ("false", "19000", "190"));

        var r = await factory.Create(g).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Healthy, r.Status);
        Assert.Equal(GuardrailDefinition.CohortKind, r.Kind);
        Assert.NotNull(r.Cohort);
        Assert.Equal(1000, r.Cohort!.TreatmentRequests);
        Assert.Equal(190, r.Cohort.ControlBad);
        Assert.Equal(-0.8838714369926572, r.Value!.Value, 10);
        Assert.Equal(">= 2.9957", r.ThresholdText);
        Assert.StartsWith("true 1% (10/1000) vs false 1% (190/19000); +0% [-", r.Cohort.Summary);
        Assert.StartsWith("CohortErrorRate healthy: no regression shown: true 1% (10/1000) vs false 1%", r.Evidence);
        Assert.Equal(TimeSpan.FromMinutes(5), r.Cohort.Window);
        Assert.Null(r.Cohort.Since);
    }

    [Fact]
    public async Task A_regressed_exposed_cohort_breaches_at_once_and_the_result_round_trips_through_the_ledger_form()
    {
        var g = ErrorRate();
        Counts(g, TimeSpan.FromMinutes(5), ("true", "5000", "50"), ("false", "95000", "475"));

        var r = await factory.Create(g).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Breached, r.Status);
        Assert.Single(r.BreachingSeries);
        Assert.Equal("true", r.BreachingSeries[0].Labels[Variant]);
        Assert.StartsWith("CohortErrorRate BREACHED [Critical]: the exposed cohort is worse than control: true 1% (50/5000) vs false 0.5% (475/95000); +100% [+", r.Evidence);

        var json = r.ToJson();
        var cohort = (JObject)json["cohort"]!;
        Assert.Equal(5000m, (decimal)cohort["treatment_requests"]!);
        Assert.Equal(475m, (decimal)cohort["control_bad"]!);
        Assert.Equal(0.01m, (decimal)cohort["treatment_rate"]!);
        Assert.Equal(0.005m, (decimal)cohort["control_rate"]!);
        Assert.Equal(1m, (decimal)cohort["estimate"]!);
        Assert.True((decimal)cohort["interval_lower"]! > 0);
        Assert.Equal(7.3096338m, Math.Round((decimal)cohort["statistic"]!, 7));
        Assert.Equal(2.99573227m, Math.Round((decimal)cohort["threshold"]!, 8));
        Assert.True((bool)cohort["concluded"]!);
        Assert.Contains("Wald", (string)cohort["method"]!);
        var back = GuardrailResult.FromJson(JObject.Parse(json.ToString()));
        Assert.Equal(r.Evidence, back.Evidence);
        Assert.Equal(r.Cohort!.Summary, back.Cohort!.Summary);
    }

    [Fact]
    public async Task Too_few_requests_in_a_cohort_is_no_data_standalone_and_outside_the_bake_but_pending_while_the_bake_runs()
    {
        var g = ErrorRate();
        Counts(g, TimeSpan.FromMinutes(5), ("true", "120", "30"), ("false", "19000", "10"));
        var standalone = await factory.Create(g).EvaluateAsync(None);
        Assert.Equal(GuardrailStatus.NoData, standalone.Status);
        Assert.False(standalone.Counted);
        Assert.Equal("too few requests to compare: true 120, false 19000 requests of the 500 each cohort needs, in the last 5m", standalone.Reason);
        Assert.Empty(standalone.Series);

        var entered = clock.GetUtcNow() - TimeSpan.FromSeconds(100);
        Counts(g, TimeSpan.FromSeconds(100), ("true", "120", "30"), ("false", "19000", "10"));
        var baking = await factory.Create(g).EvaluateAsync(GuardrailContext.ForStage(entered, clock.GetUtcNow() + TimeSpan.FromMinutes(28)), None);
        Assert.Equal(GuardrailStatus.Pending, baking.Status);
        Assert.False(baking.Counted);
        Assert.StartsWith("collecting evidence: true 120, false 19000 requests of the 500 each cohort needs, since the stage started at 2025-03-12T08:58:20Z", baking.Reason);
        Assert.Equal(entered, baking.Cohort!.Since);
        Assert.Equal(GuardrailStatus.Pending, ForDurationTracker.Track(baking, null).Status);

        var baked = await factory.Create(g).EvaluateAsync(GuardrailContext.ForStage(entered, clock.GetUtcNow()), None);
        Assert.Equal(GuardrailStatus.NoData, baked.Status);
        Assert.StartsWith("too few requests to compare", baked.Reason);
    }

    [Fact]
    public async Task Inside_a_stage_the_counts_run_from_the_stage_start()
    {
        var g = ErrorRate();
        var entered = clock.GetUtcNow() - TimeSpan.FromSeconds(754.3);
        Counts(g, TimeSpan.FromSeconds(754.3), ("true", "1000", "10"), ("false", "19000", "190"));

        var r = await factory.Create(g).EvaluateAsync(GuardrailContext.ForStage(entered, null), None);

        Assert.Equal(GuardrailStatus.Healthy, r.Status);
        Assert.All(prometheus.Queries, q => Assert.EndsWith("[755s]))", q));
        Assert.Equal(TimeSpan.FromSeconds(755), r.Cohort!.Window);
    }

    [Fact]
    public async Task A_variant_without_bad_requests_has_none()
    {
        var g = ErrorRate(minimumSamples: 10);
        Counts(g, TimeSpan.FromMinutes(5), ("true", "1000", ""), ("false", "19000", "190"));

        var r = await factory.Create(g).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Healthy, r.Status);
        Assert.Equal(0, r.Cohort!.TreatmentBad);
        Assert.Equal(-1, r.Cohort.Estimate);
    }

    [Fact]
    public async Task Only_the_control_seen_is_a_flag_not_yet_exposed_not_an_error()
    {
        var g = ErrorRate();
        Counts(g, TimeSpan.FromMinutes(5), ("false", "19000", "190"));

        var r = await factory.Create(g).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.NoData, r.Status);
        Assert.StartsWith("too few requests to compare: true 0, false 19000", r.Reason);
    }

    [Fact]
    public async Task A_query_without_the_variant_label_is_refused_standalone_and_blind_inside_a_stage()
    {
        var g = GuardrailDefinition.ForCohort(FakePrometheus.Url, null, name: "Flat", flag: Flag, badQuery: "sum(increase(bad[$window]))", totalQuery: "sum(increase(all[$window]))");
        prometheus.Vector("sum(increase(all[300s]))", ("", "20000"));
        prometheus.Vector("sum(increase(bad[300s]))", ("", "200"));

        var ex = await Assert.ThrowsAsync<FlagsException>(() => factory.Create(g).EvaluateAsync(None));
        Assert.Equal("CohortVariantLabelMissing", ex.ErrorId);
        Assert.Contains("without the label 'feature_flag_result_variant' ({})", ex.Message);

        prometheus.Vector("sum(increase(all[60s]))", ("", "20000"));
        prometheus.Vector("sum(increase(bad[60s]))", ("", "200"));
        var inStage = await factory.Create(g).EvaluateAsync(GuardrailContext.ForStage(clock.GetUtcNow() - TimeSpan.FromMinutes(1), null), None);
        Assert.Equal(GuardrailStatus.Error, inStage.Status);
        Assert.False(inStage.Counted);
        Assert.StartsWith("CohortVariantLabelMissing: ", inStage.Reason);
    }

    [Fact]
    public async Task A_treatment_value_that_never_appears_is_refused_and_so_is_a_control_value()
    {
        var g = ErrorRate(treatment: "enabled");
        Counts(g, TimeSpan.FromMinutes(5), ("true", "1000", "10"), ("false", "19000", "190"));
        var ex = await Assert.ThrowsAsync<FlagsException>(() => factory.Create(g).EvaluateAsync(None));
        Assert.Equal("CohortTreatmentNotFound", ex.ErrorId);
        Assert.Contains("'enabled' never appears in 'feature_flag_result_variant', which carries 'false', 'true'", ex.Message);

        var c = GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate, flag: Flag, control: "off");
        Counts(c, TimeSpan.FromMinutes(5), ("true", "1000", "10"), ("false", "19000", "190"));
        Assert.Equal("CohortControlNotFound", (await Assert.ThrowsAsync<FlagsException>(() => factory.Create(c).EvaluateAsync(None))).ErrorId);
    }

    [Fact]
    public async Task Without_a_flag_it_cannot_run_standalone_and_a_rollout_binds_its_own()
    {
        var unbound = GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate);
        Assert.Null(unbound.Flag);
        Assert.Contains("the rollout's flag", unbound.Expression);
        var ex = await Assert.ThrowsAsync<FlagsException>(() => factory.Create(unbound).EvaluateAsync(None));
        Assert.Equal("CohortFlagRequired", ex.ErrorId);
        Assert.Empty(prometheus.Queries);

        var bound = unbound.BoundTo(Flag);
        Assert.Equal(Flag, bound.Flag);
        Assert.Null(unbound.Flag);
        Assert.Equal("other", ErrorRate(flag: "other").BoundTo(Flag).Flag);
        var plan = new Engine.Rollouts.RolloutPlan { RolloutId = "ro-1", Flag = Flag, Environment = "production", Stages = new[] { 5m }, Guardrails = new[] { unbound }, Reason = "r", User = "u" };
        Assert.Equal(Flag, plan.Guardrails[0].Flag);
        Assert.Equal(Flag, (string?)plan.ToJson()["guardrails"]![0]!["flag"]);
    }

    [Fact]
    public async Task At_full_exposure_there_is_nothing_to_compare_so_it_neither_asks_nor_holds_the_stage()
    {
        var inStage = await factory.Create(ErrorRate()).EvaluateAsync(GuardrailContext.ForStage(clock.GetUtcNow() - TimeSpan.FromMinutes(1), clock.GetUtcNow() + TimeSpan.FromMinutes(1), 100m), None);
        Assert.Equal(GuardrailStatus.Healthy, inStage.Status);
        Assert.False(inStage.Counted);
        Assert.StartsWith("CohortErrorRate not applicable: the stage serves true to every request", inStage.Evidence);
        Assert.Empty(prometheus.Queries);

        var g = ErrorRate();
        Counts(g, TimeSpan.FromMinutes(5), ("true", "20000", "100"));
        var standalone = await factory.Create(g).EvaluateAsync(None);
        Assert.Equal(GuardrailStatus.NoData, standalone.Status);
        Assert.StartsWith("only true requests in the last 5m", standalone.Reason);
    }

    [Fact]
    public async Task An_unreachable_Prometheus_is_an_error_not_an_exception()
    {
        prometheus.Down = true;
        var r = await factory.Create(ErrorRate()).EvaluateAsync(None);
        Assert.Equal(GuardrailStatus.Error, r.Status);
        Assert.False(r.Counted);
        Assert.Contains("unreachable", r.Reason);
    }

    [Theory]
    [InlineData(0.0, "GuardrailFalseAlarmRateInvalid")]
    [InlineData(-0.01, "GuardrailFalseAlarmRateInvalid")]
    [InlineData(0.51, "GuardrailFalseAlarmRateInvalid")]
    [InlineData(double.NaN, "GuardrailFalseAlarmRateInvalid")]
    public void A_false_alarm_rate_outside_zero_to_one_half_is_refused(double alpha, string errorId)
    {
        var ex = Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate, falseAlarmRate: alpha));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(0.5, GuardrailDefinition.ForCohort(FakePrometheus.Url, CohortQueries.ErrorRate, falseAlarmRate: 0.5).FalseAlarmRate);
    }

    [Fact]
    public void Other_bad_settings_are_refused_each_with_its_error_id()
    {
        var url = FakePrometheus.Url;
        Assert.Equal("GuardrailMinimumRegressionInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, minimumRelativeRegression: -0.1)).ErrorId);
        Assert.Equal("GuardrailMinimumRegressionInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, minimumRelativeRegression: 0)).ErrorId);
        Assert.Equal("GuardrailMinimumSamplesInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, minimumSamples: 0)).ErrorId);
        Assert.Equal("GuardrailWindowInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, window: TimeSpan.Zero)).ErrorId);
        Assert.Equal("CohortLabelInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, variantLabel: "feature_flag.result.variant")).ErrorId);
        Assert.Equal("CohortVariantsInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, CohortQueries.ErrorRate, treatment: "on", control: "on")).ErrorId);
        Assert.Equal("CohortMetricUnknown", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, "CohortThroughput")).ErrorId);
        Assert.Equal("CohortQueryRequired", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(url, null, name: "x", badQuery: "bad")).ErrorId);
        Assert.Equal("GuardrailUrlInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.ForCohort(new Uri("http://u:p@prom:9090"), CohortQueries.ErrorRate)).ErrorId);
    }

    [Fact]
    public void A_cohort_definition_round_trips_through_JSON()
    {
        var g = GuardrailDefinition.ForCohort(FakePrometheus.Url, null, name: "Checkout", flag: "f", badQuery: "b[$window]", totalQuery: "t[$window]", flagLabel: "flag", variantLabel: "variant", treatment: "on", control: "off", window: TimeSpan.FromMinutes(10), minimumRelativeRegression: 0.25, falseAlarmRate: 0.01, minimumSamples: 2000, severity: GuardrailSeverity.Warning, noData: NoDataPolicy.Fail);

        var back = GuardrailDefinition.Parse(g.ToJsonString());

        Assert.Equal(g.ToJsonString(), back.ToJsonString());
        Assert.Equal(("on", "off", 0.25, 0.01, 2000L, "b[$window]"), (back.Treatment, back.Control, back.MinimumRelativeRegression, back.FalseAlarmRate, back.MinimumSamples, back.BadQuery));
        var bad = JObject.Parse(g.ToJsonString());
        bad["false_alarm_rate"] = 0.9;
        Assert.Equal("GuardrailFalseAlarmRateInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.FromJson(bad)).ErrorId);
    }
}
