using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>The offline PromQL check and the rule file's YAML: what promtool would refuse is refused before writing.</summary>
public sealed class AlertRuleFileTests
{
    private static readonly Uri Prometheus = new("http://127.0.0.1:9/");

    [Theory]
    [InlineData("rate(http_requests_total{status=~\"5..\"}[5m])")]
    [InlineData("histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))")]
    [InlineData("max_over_time(up[30m:1m]) # a subquery")]
    [InlineData("sum by (handler) (rate(x{a='b]'}[1h30m]))")]
    public void Valid_PromQL_passes(string query) => Assert.Null(PromQlSyntax.Problem(query));

    [Theory]
    [InlineData("rate(x[5m]", "never closed")]
    [InlineData("rate(x[5 minutes])", "is not a range")]
    [InlineData("rate(x{a=\"b}[5m])", "not closed")]
    [InlineData("sum(x) /", "ends with")]
    [InlineData("rate(x[5m]); drop", "no meaning")]
    [InlineData("rate(x{a=\"b\"][5m])", "closes nothing")]
    [InlineData("  ", "empty")]
    public void Broken_PromQL_is_named(string query, string why) => Assert.Contains(why, PromQlSyntax.Problem(query));

    [Fact]
    public void A_custom_rule_quotes_what_YAML_would_misread_and_omits_a_zero_for()
    {
        var odd = GuardrailDefinition.ForPrometheus("Odd: name", Prometheus, "up", GuardrailOperator.LessThan, 1, TimeSpan.Zero, GuardrailSeverity.Warning);
        var text = AlertRuleFile.Render(new[] { odd });

        Assert.Contains("      - alert: 'Odd: name'\n        expr: up < 1\n        labels:\n          severity: warning\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("for:", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_query_is_refused_and_no_file_appears()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pms-rules-{Guid.NewGuid():N}.yml");
        var bad = GuardrailDefinition.ForPrometheus("Bad", Prometheus, "rate(x[5m]", GuardrailOperator.GreaterThan, 1, TimeSpan.Zero, GuardrailSeverity.Critical);

        var ex = Assert.Throws<FlagsException>(() => AlertRuleFile.Write(new[] { bad }, path));

        Assert.Equal("AlertRuleQueryInvalid", ex.ErrorId);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData(90, "1m30s")]
    [InlineData(7200, "2h")]
    [InlineData(0.5, "500ms")]
    public void Durations_are_written_as_Prometheus_reads_them(double seconds, string expected)
        => Assert.Equal(expected, AlertRuleFile.PrometheusDuration(TimeSpan.FromSeconds(seconds)));
}
