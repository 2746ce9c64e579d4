using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>-HealthUrl: 2xx required, latency reported as the value, unreachable is an Error for the no-data policy.</summary>
public sealed class HttpHealthGuardrailTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ManualTimeProvider clock = new(new DateTimeOffset(2025, 3, 12, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_2xx_answer_is_healthy_and_reports_its_latency()
    {
        using var server = new LoopbackServer(_ => (200, "{\"status\":\"healthy\"}"));
        using var factory = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await factory.Create(GuardrailDefinition.ForHttpHealth(new Uri(server.BaseUrl, "health"))).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Healthy, result.Status);
        var series = Assert.Single(result.Series);
        Assert.True(series.Value > 0, "a real round trip has a latency");
        Assert.Equal(result.Value, series.Value);
        Assert.Equal(new Uri(server.BaseUrl, "health").AbsoluteUri, series.Labels["url"]);
        Assert.StartsWith("HTTP 200", result.Reason);
    }

    [Fact]
    public async Task A_non_2xx_answer_breaches_at_once_and_is_not_retried()
    {
        using var server = new LoopbackServer(_ => (503, "{\"status\":\"unhealthy\"}"));
        using var factory = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await factory.Create(GuardrailDefinition.ForHttpHealth(new Uri(server.BaseUrl, "health"), "Backend health")).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Breached, result.Status);
        Assert.Equal(GuardrailSeverity.Critical, result.Severity);
        Assert.Contains("HTTP 503", result.Evidence);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_latency_threshold_makes_a_slow_answer_breach()
    {
        using var server = new LoopbackServer(_ =>
        {
            Thread.Sleep(30);
            return (200, "{}");
        });
        using var factory = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await factory.Create(GuardrailDefinition.ForHttpHealth(server.BaseUrl, maximumLatencySeconds: 0.001)).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Breached, result.Status);
        Assert.True(result.Value >= 0.03);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_an_Error_governed_by_the_no_data_policy()
    {
        using var factory = new GuardrailFactory(null, RolloutFixture.FastHttp, clock);

        var result = await factory.Create(GuardrailDefinition.ForHttpHealth(new Uri($"http://127.0.0.1:{FreePort.Next()}/health"))).EvaluateAsync(None);

        Assert.Equal(GuardrailStatus.Error, result.Status);
        Assert.False(result.Counted);
        Assert.Contains("unreachable", result.Reason);
    }
}
