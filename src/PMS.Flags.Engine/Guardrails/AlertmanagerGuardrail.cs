using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polly.Timeout;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// An alert in Alertmanager as a guardrail (<c>-AlertmanagerUrl -AlertName</c>): each active alert with that name and
/// every matcher's label is one series, and any of them breaches (after For, if set). No such alert is healthy: an
/// empty answer from a reachable Alertmanager is a measurement. Silenced and inhibited alerts do not count, as they do
/// not page anyone either. An unreachable or unreadable Alertmanager is an Error, governed by the no-data policy.
/// </summary>
public sealed class AlertmanagerGuardrail : IGuardrail
{
    private readonly GuardrailHttp http;
    private readonly TimeProvider time;

    internal AlertmanagerGuardrail(GuardrailDefinition definition, GuardrailHttp http, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.AlertmanagerKind)
        {
            throw new ArgumentException($"Not an {GuardrailDefinition.AlertmanagerKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        this.http = http;
        this.time = time;
    }

    public string Name => Definition.Name;

    public GuardrailSeverity Severity => Definition.Severity;

    public GuardrailDefinition Definition { get; }

    /// <summary>The API v2 query for the active, unsilenced, uninhibited alerts this guardrail watches.</summary>
    public Uri AlertsUri
    {
        get
        {
            var filters = new[] { ("alertname", Definition.AlertName!) }.Concat(Definition.Matchers.Select(m => (m.Key, m.Value)))
                .Select(f => "filter=" + Uri.EscapeDataString($"{f.Item1}=\"{f.Item2.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\""));
            var root = Definition.AlertmanagerUrl!.AbsoluteUri.TrimEnd('/');
            return new Uri($"{root}/api/v2/alerts?active=true&silenced=false&inhibited=false&{string.Join("&", filters)}");
        }
    }

    public async Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken)
    {
        var uri = AlertsUri;
        var evaluatedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var baseline = new GuardrailResult
        {
            Guardrail = Definition.Name,
            Kind = Definition.Kind,
            Severity = Definition.Severity,
            Query = uri.AbsoluteUri,
            Expression = Definition.Expression,
            Operator = GuardrailOperator.GreaterThan,
            Threshold = 0,
            For = Definition.For,
            NoData = Definition.NoData,
            EvaluatedAt = evaluatedAt,
        };

        GuardrailResult raw;
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            raw = !response.IsSuccessStatusCode
                ? baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"Alertmanager answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}" }
                : Measure(baseline, body);
        }
        catch (HttpRequestException ex)
        {
            raw = baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"Alertmanager {Definition.AlertmanagerUrl!.Authority} is unreachable after {http.Options.MaxRetryAttempts + 1} attempts: {ex.Message}" };
        }
        catch (TimeoutRejectedException)
        {
            raw = baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"Alertmanager {Definition.AlertmanagerUrl!.Authority} did not answer within {http.Options.AttemptTimeout.TotalSeconds:0.#} s ({http.Options.MaxRetryAttempts + 1} attempts)" };
        }

        return ForDurationTracker.Track(raw with { Latency = time.GetElapsedTime(started) }, null);
    }

    private GuardrailResult Measure(GuardrailResult baseline, string body)
    {
        JArray alerts;
        try
        {
            alerts = JArray.Parse(body);
        }
        catch (JsonException ex)
        {
            return baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"Alertmanager's answer is not a list of alerts ({ex.Message})" };
        }

        // The API filters already; checking again guards against an Alertmanager (or proxy) that ignored a filter.
        var series = alerts.OfType<JObject>()
            .Select(alert => (Labels: (alert["labels"] as JObject)?.Properties().ToDictionary(p => p.Name, p => (string?)p.Value ?? "", StringComparer.Ordinal) ?? new Dictionary<string, string>(),
                              State: (string?)alert["status"]?["state"],
                              StartsAt: (string?)alert["startsAt"]))
            .Where(a => a.State is null or "active"
                        && a.Labels.TryGetValue("alertname", out var alertName) && alertName == Definition.AlertName
                        && Definition.Matchers.All(m => a.Labels.TryGetValue(m.Key, out var v) ? v == m.Value : m.Value.Length == 0))
            .Select(a => new GuardrailSeries { Labels = a.Labels, RawValue = "1", Value = 1, ConditionMet = true })
            .ToArray();
        var since = alerts.OfType<JObject>().Select(a => (string?)a["startsAt"]).Where(t => t is not null).OrderBy(t => t, StringComparer.Ordinal).FirstOrDefault();
        return baseline with
        {
            Status = GuardrailStatus.Healthy,
            Series = series,
            Reason = series.Length == 0
                ? $"no active {Definition.AlertName} alert in Alertmanager"
                : $"{series.Length} active {Definition.AlertName} alert(s) in Alertmanager{(since is null ? "" : $", the first since {since}")}",
        };
    }

    public override string ToString() => Definition.ToString();
}
