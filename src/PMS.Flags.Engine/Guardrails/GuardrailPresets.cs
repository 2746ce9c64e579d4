using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// The playbook's two alerts ("Alert Thresholds"), exactly: expression, threshold, <c>for</c> and severity.
/// The query is the expression's left-hand side; the comparison is made here, per series, so that an empty answer
/// (no data) can be told apart from "no series above the threshold" (healthy), which a Prometheus alert cannot do.
/// Note that HighErrorRate's expression is the playbook's: 5xx responses per second per series (not a ratio).
/// </summary>
public static class GuardrailPresets
{
    public const string HighErrorRate = "HighErrorRate";
    public const string SlowResponseTime = "SlowResponseTime";

    public static IReadOnlyList<string> Names { get; } = new[] { HighErrorRate, SlowResponseTime };

    public static GuardrailDefinition Create(string preset, Uri prometheusUrl, NoDataPolicy noData = NoDataPolicy.Pause, string? minimumTrafficQuery = null, double? minimumTraffic = null)
    {
        GuardrailDefinition definition = preset?.Trim().ToLowerInvariant() switch
        {
            "higherrorrate" => new GuardrailDefinition
            {
                Kind = GuardrailDefinition.PrometheusKind,
                Name = HighErrorRate,
                Preset = HighErrorRate,
                PrometheusUrl = prometheusUrl,
                Query = "rate(http_requests_total{status=~\"5..\"}[5m])",
                Operator = GuardrailOperator.GreaterThan,
                Threshold = 0.05,
                For = TimeSpan.FromMinutes(2),
                Severity = GuardrailSeverity.Critical,
                NoData = noData,
                MinimumTrafficQuery = minimumTrafficQuery,
                MinimumTraffic = minimumTraffic,
            },
            "slowresponsetime" => new GuardrailDefinition
            {
                Kind = GuardrailDefinition.PrometheusKind,
                Name = SlowResponseTime,
                Preset = SlowResponseTime,
                PrometheusUrl = prometheusUrl,
                Query = "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))",
                Operator = GuardrailOperator.GreaterThan,
                Threshold = 2,
                For = TimeSpan.FromMinutes(5),
                Severity = GuardrailSeverity.Warning,
                NoData = noData,
                MinimumTrafficQuery = minimumTrafficQuery,
                MinimumTraffic = minimumTraffic,
            },
            _ => throw new FlagsException("GuardrailPresetUnknown", FlagsErrorKind.InvalidArgument, $"There is no guardrail preset '{preset}'. Presets: {string.Join(", ", Names)}.", preset),
        };
        definition.Validate();
        return definition;
    }
}
