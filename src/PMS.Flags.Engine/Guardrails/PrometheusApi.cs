using System.Net;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using Polly.Timeout;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Prometheus' instant-query API as the guardrails use it: one GET through the guardrail retry policy, the answer's
/// series with their samples exactly as written, and the query-rejected rule (bad_data or execution, or a result that
/// is not an instant vector or scalar, is the query's fault: PrometheusQueryRejected).
/// </summary>
internal sealed class PrometheusApi
{
    private readonly string guardrail;
    private readonly Uri url;
    private readonly GuardrailHttp http;

    public PrometheusApi(string guardrail, Uri url, GuardrailHttp http)
    {
        this.guardrail = guardrail;
        this.url = url;
        this.http = http;
    }

    public async Task<PrometheusAnswer> QueryAsync(string query, CancellationToken cancellationToken)
    {
        // Prometheus may sit under a path prefix (a reverse proxy's /prometheus): keep it.
        var uri = new Uri(url.AbsoluteUri.TrimEnd('/') + "/api/v1/query?query=" + Uri.EscapeDataString(query));

        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return PrometheusAnswer.Failed($"Prometheus at {url} is unreachable after {http.Options.MaxRetryAttempts + 1} attempts: {ex.Message}");
        }
        catch (TimeoutRejectedException)
        {
            return PrometheusAnswer.Failed($"Prometheus at {url} did not answer within {http.Options.AttemptTimeout.TotalSeconds:0.#} s ({http.Options.MaxRetryAttempts + 1} attempts)");
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
                return PrometheusAnswer.Failed($"Prometheus at {url} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} without an API response{(response.StatusCode == HttpStatusCode.NotFound ? " (is the URL Prometheus' base URL?)" : "")}");
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
                        $"Prometheus rejected the query of guardrail '{guardrail}' ({errorType}): {message}. Query: {query}",
                        query);
                }

                return PrometheusAnswer.Failed($"Prometheus answered HTTP {(int)response.StatusCode} {errorType}: {message}", warnings);
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
                        $"The query of guardrail '{guardrail}' returns a {resultType ?? "missing"} result; a guardrail needs an instant vector or a scalar (no range selector at the top level). Query: {query}",
                        query);
            }

            return new PrometheusAnswer(samples, null, warnings);
        }
    }

    private static GuardrailSeries Sample(IReadOnlyDictionary<string, string> labels, JToken? pair)
    {
        var raw = pair is JArray { Count: 2 } a ? a[1].Type == JTokenType.String ? (string)a[1]! : a[1].ToString(Formatting.None) : "NaN";
        return new GuardrailSeries { Labels = labels, RawValue = raw, Value = GuardrailSeries.ParseSample(raw) };
    }
}
