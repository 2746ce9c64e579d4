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
    private readonly GuardrailHttp http;
    private readonly TimeProvider time;

    internal PrometheusGuardrail(GuardrailDefinition definition, GuardrailHttp http, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.PrometheusKind)
        {
            throw new ArgumentException($"Not a {GuardrailDefinition.PrometheusKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        this.http = http;
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
            ConditionMet = !double.IsNaN(s.Value) && (Definition.Operator == GuardrailOperator.GreaterThan ? s.Value > threshold : s.Value < threshold),
        }).ToArray();

        GuardrailResult raw;
        if (series.Length == 0)
        {
            // With enough traffic measured, an empty "errors per second" vector means no request matched: no errors.
            // Without a traffic check it may as well mean the metric is not scraped at all, so it is no data. For a
            // LessThan condition (e.g. a success ratio) an empty answer never proves health.
            raw = traffic is not null && Definition.Operator == GuardrailOperator.GreaterThan
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

    private async Task<QueryAnswer> QueryAsync(string query, CancellationToken cancellationToken)
    {
        // Prometheus may sit under a path prefix (a reverse proxy's /prometheus): keep it.
        var uri = new Uri(Definition.PrometheusUrl!.AbsoluteUri.TrimEnd('/') + "/api/v1/query?query=" + Uri.EscapeDataString(query));

        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return QueryAnswer.Failed($"Prometheus at {Definition.PrometheusUrl} is unreachable after {http.Options.MaxRetryAttempts + 1} attempts: {ex.Message}");
        }
        catch (TimeoutRejectedException)
        {
            return QueryAnswer.Failed($"Prometheus at {Definition.PrometheusUrl} did not answer within {http.Options.AttemptTimeout.TotalSeconds:0.#} s ({http.Options.MaxRetryAttempts + 1} attempts)");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JObject? document = null;
            try
            {
                document = JToken.Parse(body) as JObject;
            }
            catch (JsonException)
            {
            }

            if (document is null || document["status"] is not { Type: JTokenType.String } statusToken)
            {
                return QueryAnswer.Failed($"Prometheus at {Definition.PrometheusUrl} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} without an API response{(response.StatusCode == HttpStatusCode.NotFound ? " (is the URL Prometheus' base URL?)" : "")}");
            }

            var warnings = (document["warnings"] as JArray ?? new JArray()).Select(w => (string?)w ?? "").ToArray();
            if ((string?)statusToken != "success")
            {
                var errorType = (string?)document["errorType"] ?? "unknown";
                var message = (string?)document["error"] ?? "";

                // bad_data (parse errors, bad parameters) and execution (e.g. many-to-many matching) are the query's
                // fault and will not go away by asking again: the user must fix the guardrail.
                if (errorType is "bad_data" or "execution")
                {
                    throw new FlagsException(
                        "PrometheusQueryRejected",
                        FlagsErrorKind.InvalidArgument,
                        $"Prometheus rejected the query of guardrail '{Definition.Name}' ({errorType}): {message}. Query: {query}",
                        query);
                }

                return QueryAnswer.Failed($"Prometheus answered HTTP {(int)response.StatusCode} {errorType}: {message}", warnings);
            }

            var data = document["data"] as JObject;
            var resultType = (string?)data?["resultType"];
            var samples = new List<GuardrailSeries>();
            switch (resultType)
            {
                case "vector":
                    foreach (var item in (data!["result"] as JArray ?? new JArray()).OfType<JObject>())
                    {
                        var labels = (item["metric"] as JObject ?? new JObject()).Properties().ToDictionary(p => p.Name, p => (string?)p.Value ?? "", StringComparer.Ordinal);
                        samples.Add(Sample(labels, item["value"]));
                    }

                    break;
                case "scalar":
                    samples.Add(Sample(new Dictionary<string, string>(), data!["result"]));
                    break;
                default:
                    throw new FlagsException(
                        "PrometheusQueryRejected",
                        FlagsErrorKind.InvalidArgument,
                        $"The query of guardrail '{Definition.Name}' returns a {resultType ?? "missing"} result; a guardrail needs an instant vector or a scalar (no range selector at the top level). Query: {query}",
                        query);
            }

            return new QueryAnswer(samples, null, warnings);
        }
    }

    private static GuardrailSeries Sample(IReadOnlyDictionary<string, string> labels, JToken? pair)
    {
        var raw = pair is JArray { Count: 2 } a ? a[1].Type == JTokenType.String ? (string)a[1]! : a[1].ToString(Formatting.None) : "NaN";
        return new GuardrailSeries { Labels = labels, RawValue = raw, Value = GuardrailSeries.ParseSample(raw) };
    }

    private sealed record QueryAnswer(IReadOnlyList<GuardrailSeries> Samples, string? Error, IReadOnlyList<string> Warnings)
    {
        public static QueryAnswer Failed(string error, IReadOnlyList<string>? warnings = null) => new(Array.Empty<GuardrailSeries>(), error, warnings ?? Array.Empty<string>());
    }
}
