using System.Net;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using Polly.Timeout;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// A PromQL condition checked with an instant query (<c>GET {url}/api/v1/query?query=…</c>), judged per series like a
/// Prometheus alerting rule. It sends the expression's left-hand side and compares here, so it sees every series'
/// value (evidence even when healthy) and can tell "nothing breaches" from "nothing measured".
/// </summary>
public sealed class PrometheusGuardrail : IGuardrail
{
    private readonly PrometheusApi api;
    private readonly TimeProvider time;

    internal PrometheusGuardrail(GuardrailDefinition definition, GuardrailHttp http, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.PrometheusKind)
        {
            throw new ArgumentException($"Not a {GuardrailDefinition.PrometheusKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        api = new PrometheusApi(definition.Name, definition.PrometheusUrl!, http);
        this.time = time;
    }

    public string Name => Definition.Name;

    public GuardrailSeverity Severity => Definition.Severity;

    public GuardrailDefinition Definition { get; }

    public async Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken)
    {
        var evaluatedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var baseline = new GuardrailResult
        {
            Guardrail = Definition.Name,
            Kind = Definition.Kind,
            Severity = Definition.Severity,
            Status = GuardrailStatus.Healthy,
            Query = Definition.Query,
            Expression = Definition.Expression,
            Operator = Definition.Operator,
            Threshold = Definition.Threshold,
            For = Definition.For,
            NoData = Definition.NoData,
            EvaluatedAt = evaluatedAt,
            MinimumTrafficQuery = Definition.MinimumTrafficQuery,
            MinimumTraffic = Definition.MinimumTraffic,
        };

        var warnings = new List<string>();
        double? traffic = null;
        if (Definition.MinimumTrafficQuery is { } trafficQuery)
        {
            var trafficAnswer = await QueryAsync(trafficQuery, cancellationToken).ConfigureAwait(false);
            warnings.AddRange(trafficAnswer.Warnings);
            if (trafficAnswer.Error is { } trafficError)
            {
                return Finish(baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"minimum-traffic query failed: {trafficError}", Warnings = warnings }, started);
            }

            traffic = trafficAnswer.Samples.Select(s => s.Value).Where(v => !double.IsNaN(v)).Sum();
            if (traffic < Definition.MinimumTraffic)
            {
                return Finish(baseline with { Status = GuardrailStatus.NoData, Counted = false, Traffic = traffic, Reason = $"below minimum traffic ({GuardrailResult.Number(traffic.Value)} < {GuardrailResult.Number(Definition.MinimumTraffic!.Value)})", Warnings = warnings }, started);
            }
        }

        var answer = await QueryAsync(Definition.Query!, cancellationToken).ConfigureAwait(false);
        warnings.AddRange(answer.Warnings);
        if (answer.Error is { } error)
        {
            return Finish(baseline with { Status = GuardrailStatus.Error, Counted = false, Traffic = traffic, Reason = error, Warnings = warnings }, started);
        }

        var threshold = Definition.Threshold!.Value;
        var series = answer.Samples.Select(s => s with
        {
            // NaN compares false in PromQL too, so a NaN series never breaches; it is reported as a series without data.
            ConditionMet = Definition.Operator.Holds(s.Value, threshold),
        }).ToArray();

        GuardrailResult raw;
        if (series.Length == 0)
        {
            // With enough traffic measured, an empty "errors per second" vector means no request matched: no errors.
            // Without a traffic check it may as well mean the metric is not scraped at all, so it is no data. For a
            // LessThan condition (e.g. a success ratio) an empty answer never proves health.
            raw = traffic is not null && Definition.Operator.HigherIsWorse()
                ? baseline with { Status = GuardrailStatus.Healthy, Reason = "no series matched while traffic was above the minimum" }
                : baseline with { Status = GuardrailStatus.NoData, Reason = "the query returned no series" };
        }
        else if (series.All(s => double.IsNaN(s.Value)))
        {
            raw = baseline with { Status = GuardrailStatus.NoData, Reason = $"all {series.Length} series are NaN (no samples in the window)" };
        }
        else
        {
            raw = baseline with { Status = GuardrailStatus.Healthy };
        }

        return Finish(raw with { Series = series, Traffic = traffic, Warnings = warnings }, started);
    }

    public override string ToString() => Definition.ToString();

    private GuardrailResult Finish(GuardrailResult raw, long started)
        => ForDurationTracker.Track(raw with { Latency = time.GetElapsedTime(started) }, null);

    private Task<PrometheusAnswer> QueryAsync(string query, CancellationToken cancellationToken)
        => api.QueryAsync(query, cancellationToken);
}
