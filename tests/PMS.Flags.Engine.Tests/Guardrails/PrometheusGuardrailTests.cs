using System.Net;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>One evaluation against Prometheus' HTTP API: parsing, per-series judgement, no data, errors and retries.</summary>
public sealed class PrometheusGuardrailTests : IDisposable
{
    private const string Query = RolloutFixture.ErrorQuery;
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakePrometheus prometheus = new();
    private readonly ManualTimeProvider clock = new(new DateTimeOffset(2025, 3, 12, 9, 0, 0, TimeSpan.Zero));
    private readonly GuardrailFactory factory;

    public PrometheusGuardrailTests() => factory = new GuardrailFactory(prometheus, RolloutFixture.FastHttp, clock);

    public void Dispose() => factory.Dispose();

    private Task<GuardrailResult> Evaluate(GuardrailDefinition? definition = null)
        => factory.Create(definition ?? Custom()).EvaluateAsync(None);

    private static GuardrailDefinition Custom(TimeSpan? forDuration = null, GuardrailOperator op = GuardrailOperator.GreaterThan, double threshold = 0.05)
        => GuardrailDefinition.ForPrometheus("Errors", FakePrometheus.Url, Query, op, threshold, forDuration ?? TimeSpan.Zero, GuardrailSeverity.Critical);

    [Fact]
    public async Task A_vector_below_the_threshold_is_healthy_with_every_series_value_reported()
    {
        prometheus.Vector(Query, ("status=500,handler=/a", "0.01"), ("status=502,handler=/b", "0.049"));

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Healthy, result.Status);
        Assert.Equal(2, result.Series.Count);
        Assert.Equal(0.049, result.Value);
        Assert.Equal("/api/v1/query", prometheus.LastPath);
        Assert.Equal(new[] { Query }, prometheus.Queries);
        Assert.Equal(clock.GetUtcNow(), result.EvaluatedAt);
        Assert.Contains("worst {handler=\"/b\", status=\"502\"} = 0.049 across 2 series; threshold > 0.05", result.Evidence);
    }

    [Fact]
    public async Task Any_breaching_series_breaches_and_the_evidence_names_it()
    {
        prometheus.Vector(Query, ("status=500,handler=/a", "0.01"), ("status=503,handler=/b", "0.2"), ("status=504,handler=/c", "+Inf"));

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Breached, result.Status);
        Assert.Equal(new[] { "{handler=\"/b\", status=\"503\"}", "{handler=\"/c\", status=\"504\"}" }, result.BreachingSeries.Select(s => s.Key));
        Assert.Contains("2 of 3 series", result.Evidence);
        Assert.Contains("{handler=\"/b\", status=\"503\"} = 0.2", result.Evidence);
        Assert.Contains("{handler=\"/c\", status=\"504\"} = +Inf", result.Evidence);
    }

    [Fact]
    public async Task LessThan_compares_the_other_way()
    {
        prometheus.Vector(Query, ("", "0.97"));

        Assert.Equal(GuardrailStatus.Breached, (await Evaluate(Custom(op: GuardrailOperator.LessThan, threshold: 0.99))).Status);
        Assert.Equal(GuardrailStatus.Healthy, (await Evaluate(Custom(op: GuardrailOperator.LessThan, threshold: 0.95))).Status);
    }

    [Fact]
    public async Task With_a_For_duration_a_single_evaluation_is_at_most_pending()
    {
        prometheus.Vector(Query, ("status=500", "0.2"));

        var result = await Evaluate(Custom(TimeSpan.FromMinutes(2)));

        Assert.Equal(GuardrailStatus.Pending, result.Status);
        Assert.Equal(clock.GetUtcNow(), result.ActiveSince["{status=\"500\"}"]);
    }

    [Fact]
    public async Task A_scalar_result_is_one_series_without_labels()
    {
        prometheus.Scalar(Query, "0.3");

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Breached, result.Status);
        Assert.Equal("{}", Assert.Single(result.Series).Key);
    }

    [Fact]
    public async Task Empty_and_all_NaN_results_are_no_data_and_NaN_series_never_breach()
    {
        prometheus.Vector(Query);
        var empty = await Evaluate();
        prometheus.Vector(Query, ("status=500", "NaN"));
        var nan = await Evaluate();
        prometheus.Vector(Query, ("status=500", "NaN"), ("status=503", "0.01"));
        var mixed = await Evaluate();

        Assert.Equal(GuardrailStatus.NoData, empty.Status);
        Assert.True(empty.Counted);
        Assert.Equal("the query returned no series", empty.Reason);
        Assert.Equal(GuardrailStatus.NoData, nan.Status);
        Assert.Equal(GuardrailStatus.Healthy, mixed.Status);
        Assert.Null(empty.Value);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "bad_data", "invalid parameter \"query\": 1:45: parse error: unclosed left parenthesis")]
    [InlineData((HttpStatusCode)422, "execution", "found duplicate series for the match group {handler=\"/a\"} on the right hand-side of the operation")]
    public async Task A_query_Prometheus_rejects_throws_PrometheusQueryRejected_with_Prometheus_message(HttpStatusCode status, string errorType, string message)
    {
        prometheus.Error(Query, status, errorType, message);

        var error = await Assert.ThrowsAsync<FlagsException>(() => Evaluate());

        Assert.Equal("PrometheusQueryRejected", error.ErrorId);
        Assert.Contains(message, error.Message);
        Assert.Contains(errorType, error.Message);
        Assert.Equal(1, prometheus.CountOf(Query)); // the query's own fault is not retried
    }

    [Fact]
    public async Task A_range_vector_result_is_refused_as_a_query_a_guardrail_cannot_use()
    {
        prometheus.Matrix(Query);

        var error = await Assert.ThrowsAsync<FlagsException>(() => Evaluate());

        Assert.Equal("PrometheusQueryRejected", error.ErrorId);
        Assert.Contains("matrix", error.Message);
    }

    [Fact]
    public async Task Transient_failures_are_retried_by_the_policy()
    {
        prometheus.Vector(Query, ("status=500", "0.01"));
        prometheus.Script(
            Query,
            () => FakePrometheus.Json(HttpStatusCode.ServiceUnavailable, new JObject { ["status"] = "error", ["errorType"] = "unavailable", ["error"] = "starting up" }));

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Healthy, result.Status);
        Assert.Equal(2, prometheus.CountOf(Query));
    }

    [Fact]
    public async Task Too_many_requests_is_retried_after_the_servers_Retry_After_capped_by_the_policy()
    {
        prometheus.Vector(Query, ("status=500", "0.01"));
        prometheus.Script(Query, () =>
        {
            var busy = FakePrometheus.Json((HttpStatusCode)429, new JObject { ["status"] = "error", ["errorType"] = "unavailable", ["error"] = "too many queries" });
            busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(120));
            return busy;
        });
        // A generous wait, not a speed bound: uncapped, the evaluation would sleep the 120 s it was told and be cancelled.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var result = await factory.Create(Custom()).EvaluateAsync(patience.Token);

        Assert.Equal(GuardrailStatus.Healthy, result.Status);
        Assert.Equal(2, prometheus.CountOf(Query));
        Assert.False(patience.IsCancellationRequested, "Retry-After must be capped by MaxRetryDelay");
    }

    [Fact]
    public async Task A_server_error_that_persists_is_an_Error_result_not_an_exception()
    {
        prometheus.Error(Query, HttpStatusCode.ServiceUnavailable, "timeout", "query timed out in expression evaluation");

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Error, result.Status);
        Assert.False(result.Counted);
        Assert.Contains("query timed out", result.Reason);
        Assert.Equal(1 + RolloutFixture.FastHttp.MaxRetryAttempts, prometheus.CountOf(Query));
    }

    [Fact]
    public async Task An_unreachable_Prometheus_is_an_Error_result()
    {
        prometheus.Down = true;

        var result = await Evaluate();

        Assert.Equal(GuardrailStatus.Error, result.Status);
        Assert.Contains("unreachable", result.Reason);
        Assert.Contains("Connection refused", result.Reason);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_turned_into_a_result()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        prometheus.Vector(Query, ("status=500", "0.01"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => factory.Create(Custom()).EvaluateAsync(cancelled.Token));
    }

    [Fact]
    public async Task Minimum_traffic_gates_the_check()
    {
        const string traffic = "sum(rate(http_requests_total[5m]))";
        var definition = GuardrailDefinition.ForPrometheus("Errors", FakePrometheus.Url, Query, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical, NoDataPolicy.Pause, traffic, 5);
        prometheus.Vector(Query, ("status=500", "0.3"));
        prometheus.Vector(traffic, ("", "1.5"));

        var low = await Evaluate(definition);
        prometheus.Vector(traffic);
        var none = await Evaluate(definition);
        prometheus.Vector(traffic, ("", "50"));
        var enough = await Evaluate(definition);

        Assert.Equal(GuardrailStatus.NoData, low.Status);
        Assert.Equal("below minimum traffic (1.5 < 5)", low.Reason);
        Assert.False(low.Counted);
        Assert.Equal(1.5, low.Traffic);
        Assert.Equal(GuardrailStatus.NoData, none.Status);
        Assert.Equal(GuardrailStatus.Breached, enough.Status);
        Assert.Contains("traffic 50 (minimum 5)", enough.Evidence);
        Assert.Equal(1, prometheus.CountOf(Query)); // below minimum, the main query was not even asked
    }

    [Fact]
    public async Task Against_a_real_HTTP_server_under_a_path_prefix_the_query_arrives_intact()
    {
        string? received = null;
        using var server = new LoopbackServer(
            request =>
            {
                received = request.QueryString["query"];
                return (200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"status\":\"500\"},\"value\":[1741780800.1,\"0.07\"]}]},\"warnings\":[\"PromQL info: metric might not be a counter\"]}");
            },
            "/prometheus/");
        using var real = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await real.Create(GuardrailPresets.Create("HighErrorRate", server.BaseUrl)).EvaluateAsync(None);

        Assert.Equal(Query, received);
        Assert.StartsWith("/prometheus/api/v1/query?query=", Assert.Single(server.Requests));
        Assert.Equal(GuardrailStatus.Pending, result.Status);
        Assert.Equal("0.07", result.Series[0].RawValue);
        Assert.Equal(new[] { "PromQL info: metric might not be a counter" }, result.Warnings);
    }

    [Fact]
    public async Task A_real_server_that_is_not_Prometheus_is_an_Error_saying_so()
    {
        using var server = new LoopbackServer(_ => (404, "404 page not found"));
        using var real = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await real.Create(GuardrailPresets.Create("HighErrorRate", server.BaseUrl)).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Error, result.Status);
        Assert.Contains("HTTP 404", result.Reason);
    }
}
