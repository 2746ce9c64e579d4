using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>The playbook's presets exactly, custom definitions, and the JSON form a rollout stores in the ledger.</summary>
public sealed class GuardrailDefinitionTests
{
    [Fact]
    public void HighErrorRate_is_the_playbook_alert_exactly()
    {
        var g = GuardrailPresets.Create("HighErrorRate", FakePrometheus.Url);

        Assert.Equal("rate(http_requests_total{status=~\"5..\"}[5m]) > 0.05", g.Expression);
        Assert.Equal(TimeSpan.FromMinutes(2), g.For);
        Assert.Equal(GuardrailSeverity.Critical, g.Severity);
        Assert.Equal("HighErrorRate", g.Name);
        Assert.Equal(NoDataPolicy.Pause, g.NoData);
    }

    [Fact]
    public void SlowResponseTime_is_the_playbook_alert_exactly()
    {
        var g = GuardrailPresets.Create("slowresponsetime", FakePrometheus.Url);

        Assert.Equal("histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2", g.Expression);
        Assert.Equal(TimeSpan.FromMinutes(5), g.For);
        Assert.Equal(GuardrailSeverity.Warning, g.Severity);
        Assert.Equal("SlowResponseTime", g.Name);
    }

    [Fact]
    public void A_definition_round_trips_through_JSON_and_is_rebuilt_equal()
    {
        var custom = GuardrailDefinition.ForPrometheus("SuccessRatio", new Uri("https://prometheus.pms.internal/prom/"), "sum(rate(http_requests_total{status!~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))", GuardrailOperator.LessThan, 0.995, TimeSpan.FromSeconds(90), GuardrailSeverity.Warning, NoDataPolicy.Fail, "sum(rate(http_requests_total[5m]))", 0.5);
        var health = GuardrailDefinition.ForHttpHealth(new Uri("http://127.0.0.1:8080/health"), maximumLatencySeconds: 0.75);

        foreach (var definition in new[] { custom, health, GuardrailPresets.Create("HighErrorRate", FakePrometheus.Url) })
        {
            var json = definition.ToJsonString();
            var rebuilt = GuardrailDefinition.Parse(json);
            Assert.Equal(json, rebuilt.ToJsonString());
            Assert.Equal(definition.Expression, rebuilt.Expression);
        }

        var o = custom.ToJson();
        Assert.Equal("LessThan", (string?)o["operator"]);
        Assert.Equal(0.995m, (decimal)o["threshold"]!);
        Assert.Equal("00:01:30", (string?)o["for"]);
        Assert.Equal("Fail", (string?)o["no_data"]);
        Assert.Equal("sum(rate(http_requests_total{status!~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) < 0.995", custom.Expression);
        Assert.Equal("GET http://127.0.0.1:8080/health -> 2xx within 0.75s", health.Expression);
    }

    [Theory]
    [InlineData("GuardrailUrlInvalid", "http://admin:secret@prometheus:9090/", "up", 1.0, 0)]
    [InlineData("GuardrailUrlInvalid", "ftp://prometheus/", "up", 1.0, 0)]
    [InlineData("GuardrailQueryRequired", "http://prometheus:9090/", " ", 1.0, 0)]
    [InlineData("GuardrailThresholdInvalid", "http://prometheus:9090/", "up", double.NaN, 0)]
    [InlineData("GuardrailForNegative", "http://prometheus:9090/", "up", 1.0, -1)]
    public void Bad_custom_guardrails_are_refused_with_their_ErrorId(string errorId, string url, string query, double threshold, int forSeconds)
    {
        var error = Assert.Throws<FlagsException>(() => GuardrailDefinition.ForPrometheus("G", new Uri(url), query, GuardrailOperator.GreaterThan, threshold, TimeSpan.FromSeconds(forSeconds), GuardrailSeverity.Critical));
        Assert.Equal(errorId, error.ErrorId);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Stored_JSON_that_is_not_a_guardrail_is_refused()
    {
        Assert.Equal("GuardrailDefinitionInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.Parse("{\"kind\":\"Prometheus\",\"name\":\"x\",\"severity\":\"Catastrophic\"}")).ErrorId);
        Assert.Equal("GuardrailKindUnknown", Assert.Throws<FlagsException>(() => GuardrailDefinition.Parse("{\"kind\":\"Datadog\",\"name\":\"x\"}")).ErrorId);
        Assert.Equal("GuardrailDefinitionInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.Parse("not json")).ErrorId);
        Assert.Equal("GuardrailMinimumTrafficInvalid", Assert.Throws<FlagsException>(() => GuardrailDefinition.FromJson(JObject.Parse("{\"kind\":\"Prometheus\",\"name\":\"x\",\"prometheus_url\":\"http://p/\",\"query\":\"up\",\"threshold\":1,\"minimum_traffic\":5}"))).ErrorId);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/health?token=abc123")]
    [InlineData("http://127.0.0.1:8080/health?x=1&access_token=abc123")]
    [InlineData("http://127.0.0.1:8080/health?api_key=abc123")]
    [InlineData("http://127.0.0.1:8080/health?sig=abc123")]
    [InlineData("http://user:abc123@127.0.0.1:8080/health")]
    public void A_health_url_carrying_a_credential_is_refused_before_it_can_reach_the_ledger(string url)
    {
        var error = Assert.Throws<FlagsException>(() => GuardrailDefinition.ForHttpHealth(new Uri(url)));

        Assert.Equal("GuardrailUrlInvalid", error.ErrorId);
        Assert.DoesNotContain("abc123", error.Message);
    }

    [Fact]
    public void A_prometheus_url_with_a_token_in_its_query_is_refused_and_harmless_parameters_are_not()
    {
        var error = Assert.Throws<FlagsException>(() => GuardrailPresets.Create("HighErrorRate", new Uri("https://prometheus.pms.internal/?auth_token=abc123")));
        Assert.Equal("GuardrailUrlInvalid", error.ErrorId);

        var fine = GuardrailDefinition.ForHttpHealth(new Uri("http://127.0.0.1:8080/health?verbose=1&keyspace_hits=2"));
        Assert.Equal("http://127.0.0.1:8080/health?verbose=1&keyspace_hits=2", fine.HealthUrl!.ToString());
    }
}
