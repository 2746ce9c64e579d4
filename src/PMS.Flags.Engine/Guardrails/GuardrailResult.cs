using System.Globalization;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// One evaluation of one guardrail: what was asked, what came back per series, what it means, and since when. It is the
/// evidence a rollout decision rests on, so it round-trips through the ledger's <c>guardrail_evaluated</c> events
/// (<see cref="ToJson"/>/<see cref="FromJson"/>), including the For-duration tracking another process needs to go on.
/// </summary>
public sealed record GuardrailResult
{
    public required string Guardrail { get; init; }

    /// <summary>"Prometheus" or "HttpHealth" (later "Deployment").</summary>
    public required string Kind { get; init; }

    public GuardrailSeverity Severity { get; init; }

    public GuardrailStatus Status { get; init; }

    /// <summary>The query sent (Prometheus) or the URL probed (HttpHealth).</summary>
    public string? Query { get; init; }

    /// <summary>The alert expression the guardrail stands for: <c>query &gt; threshold</c>.</summary>
    public string? Expression { get; init; }

    public GuardrailOperator Operator { get; init; }

    public double? Threshold { get; init; }

    public TimeSpan For { get; init; }

    public NoDataPolicy NoData { get; init; }

    public DateTimeOffset EvaluatedAt { get; init; }

    /// <summary>How long the measurement took (all attempts).</summary>
    public TimeSpan Latency { get; init; }

    public IReadOnlyList<GuardrailSeries> Series { get; init; } = Array.Empty<GuardrailSeries>();

    /// <summary>
    /// False when this evaluation did not measure the condition (an error, or traffic below the minimum): such an
    /// evaluation neither starts nor interrupts a For duration, exactly as a failed rule evaluation leaves a Prometheus
    /// alert's state alone.
    /// </summary>
    public bool Counted { get; init; } = true;

    /// <summary>Why the status is NoData or Error ("no series returned", "below minimum traffic", "connection refused …").</summary>
    public string? Reason { get; init; }

    public string? MinimumTrafficQuery { get; init; }

    public double? MinimumTraffic { get; init; }

    public double? Traffic { get; init; }

    /// <summary>Series keys whose condition holds, with the time it started to hold: the For tracking after this evaluation.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> ActiveSince { get; init; } = new Dictionary<string, DateTimeOffset>();

    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>A cohort guardrail's measurement: both cohorts' counts and rates, the estimate, its interval and the test; null for other kinds.</summary>
    public CohortEvidence? Cohort { get; init; }

    /// <summary>The worst measured value: the highest for GreaterThan/GreaterOrEqual, the lowest for LessThan/LessOrEqual; null without a number.</summary>
    public double? Value
    {
        get
        {
            var numbers = Series.Where(s => !double.IsNaN(s.Value)).Select(s => s.Value).ToArray();
            return numbers.Length == 0 ? null : Operator.HigherIsWorse() ? numbers.Max() : numbers.Min();
        }
    }

    /// <summary>The series whose condition holds now (pending or firing).</summary>
    public int SeriesCount => Series.Count;

    /// <summary>The worst value as people read it beside <see cref="ThresholdText"/>: six significant digits, or "no data".</summary>
    public string ValueText => Value is { } v ? v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) : "no data";

    public IReadOnlyList<GuardrailSeries> BreachingSeries => Series.Where(s => s.ConditionMet).ToArray();

    public string ThresholdText => Threshold is { } t ? $"{Operator.Symbol()} {Number(t)}"
        : Kind == GuardrailDefinition.HttpHealthKind ? "2xx" : "";

    /// <summary>One line an auditor can read: the condition, the values against the threshold, and the series that breach.</summary>
    public string Evidence
    {
        get
        {
            var condition = Expression ?? Query ?? Guardrail;
            if (Kind == GuardrailDefinition.CohortKind)
            {
                return CohortText();
            }

            switch (Status)
            {
                case GuardrailStatus.Breached:
                case GuardrailStatus.Pending:
                    var parts = BreachingSeries.Select(s =>
                    {
                        var held = s.ActiveSince is { } since ? EvaluatedAt - since : TimeSpan.Zero;
                        return $"{s.Key} = {s.RawValue} (held {Duration(held)} of {Duration(For)}{(s.ActiveSince is { } a ? $", since {a.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}" : "")})";
                    });
                    var word = Status == GuardrailStatus.Breached ? "BREACHED" : "pending";
                    return $"{Guardrail} {word} [{Severity}]: {condition}; {BreachingSeries.Count} of {Series.Count} series: {string.Join("; ", parts)}{(Reason is null ? "" : $"; {Reason}")}{TrafficText()}";
                case GuardrailStatus.Healthy:
                    var worst = Series.Where(s => !double.IsNaN(s.Value)).OrderBy(s => Operator.HigherIsWorse() ? -s.Value : s.Value).FirstOrDefault();
                    var measured = worst is null ? $"no series ({Reason})" : $"worst {worst.Key} = {worst.RawValue} across {Series.Count} series";
                    return $"{Guardrail} healthy: {measured}; threshold {ThresholdText}{TrafficText()}";
                case GuardrailStatus.NoData:
                    return $"{Guardrail} no data: {Reason}{TrafficText()}; policy {NoData}";
                default:
                    return $"{Guardrail} error: {Reason}; policy {NoData}";
            }
        }
    }

    public JObject ToJson()
    {
        var o = new JObject
        {
            ["guardrail"] = Guardrail,
            ["kind"] = Kind,
            ["severity"] = Severity.ToString(),
            ["status"] = Status.ToString(),
            ["query"] = Query,
            ["expression"] = Expression,
            ["operator"] = Operator.ToString(),
            ["threshold"] = GuardrailJson.Number(Threshold),
            ["for"] = GuardrailJson.Span(For),
            ["no_data"] = NoData.ToString(),
            ["evaluated_at"] = GuardrailJson.Time(EvaluatedAt),
            ["latency_ms"] = (long)Latency.TotalMilliseconds,
            ["counted"] = Counted,
            ["reason"] = Reason,
            ["series"] = new JArray(Series.Select(s => new JObject
            {
                ["labels"] = new JObject(s.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => new JProperty(l.Key, l.Value))),
                ["value"] = s.RawValue,
                ["condition_met"] = s.ConditionMet,
                ["active_since"] = s.ActiveSince is { } a ? GuardrailJson.Time(a) : null,
                ["firing"] = s.Firing,
            })),
            ["active_since"] = new JObject(ActiveSince.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new JProperty(p.Key, GuardrailJson.Time(p.Value)))),
            ["evidence"] = Evidence,
        };
        if (MinimumTrafficQuery is not null)
        {
            o["minimum_traffic_query"] = MinimumTrafficQuery;
            o["minimum_traffic"] = GuardrailJson.Number(MinimumTraffic);
            o["traffic"] = Traffic is { } t ? t.ToString("R", CultureInfo.InvariantCulture) : null;
        }

        if (Warnings.Count > 0)
        {
            o["warnings"] = new JArray(Warnings);
        }

        if (Cohort is not null)
        {
            o["cohort"] = Cohort.ToJson();
        }

        return o;
    }

    public static GuardrailResult FromJson(JObject o)
    {
        var op = GuardrailJson.Enum<GuardrailOperator>(o["operator"], GuardrailOperator.GreaterThan);
        return new GuardrailResult
        {
            Guardrail = (string?)o["guardrail"] ?? "",
            Kind = (string?)o["kind"] ?? "",
            Severity = GuardrailJson.Enum<GuardrailSeverity>(o["severity"], GuardrailSeverity.Critical),
            Status = GuardrailJson.Enum<GuardrailStatus>(o["status"], GuardrailStatus.Error),
            Query = (string?)o["query"],
            Expression = (string?)o["expression"],
            Operator = op,
            Threshold = GuardrailJson.ReadDouble(o["threshold"]),
            For = GuardrailJson.ReadSpan(o["for"]) ?? TimeSpan.Zero,
            NoData = GuardrailJson.Enum<NoDataPolicy>(o["no_data"], NoDataPolicy.Pause),
            EvaluatedAt = GuardrailJson.ReadTime(o["evaluated_at"]) ?? default,
            Latency = TimeSpan.FromMilliseconds((long?)o["latency_ms"] ?? 0),
            Counted = (bool?)o["counted"] ?? true,
            Reason = (string?)o["reason"],
            MinimumTrafficQuery = (string?)o["minimum_traffic_query"],
            MinimumTraffic = GuardrailJson.ReadDouble(o["minimum_traffic"]),
            Traffic = GuardrailJson.ReadDouble(o["traffic"]),
            Series = (o["series"] as JArray ?? new JArray()).OfType<JObject>().Select(s =>
            {
                var raw = (string?)s["value"] ?? "NaN";
                return new GuardrailSeries
                {
                    Labels = (s["labels"] as JObject ?? new JObject()).Properties().ToDictionary(p => p.Name, p => (string?)p.Value ?? "", StringComparer.Ordinal),
                    RawValue = raw,
                    Value = GuardrailSeries.ParseSample(raw),
                    ConditionMet = (bool?)s["condition_met"] ?? false,
                    ActiveSince = GuardrailJson.ReadTime(s["active_since"]),
                    Firing = (bool?)s["firing"] ?? false,
                };
            }).ToArray(),
            ActiveSince = (o["active_since"] as JObject ?? new JObject()).Properties()
                .Select(p => (p.Name, Time: GuardrailJson.ReadTime(p.Value)))
                .Where(p => p.Time is not null)
                .ToDictionary(p => p.Name, p => p.Time!.Value, StringComparer.Ordinal),
            Warnings = (o["warnings"] as JArray ?? new JArray()).Select(w => (string?)w ?? "").ToArray(),
            Cohort = o["cohort"] is JObject cohort ? CohortEvidence.FromJson(cohort) : null,
        };
    }

    public override string ToString() => Evidence;

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan span) => span.TotalSeconds < 1 && span > TimeSpan.Zero
        ? $"{span.TotalMilliseconds:0}ms"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes}m{span.Seconds}s"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{(span.Seconds > 0 ? $"{span.Seconds}s" : "")}"
        : $"{(int)span.TotalSeconds}s";

    private string CohortText()
    {
        var measured = Cohort is null ? "" : $": {Cohort.Summary}";
        return Status switch
        {
            GuardrailStatus.Breached => $"{Guardrail} BREACHED [{Severity}]: the exposed cohort is worse than control{measured}",
            GuardrailStatus.Healthy when !Counted => $"{Guardrail} not applicable: {Reason}",
            GuardrailStatus.Healthy => $"{Guardrail} healthy: no regression shown{measured}",
            GuardrailStatus.Pending => $"{Guardrail} pending: {Reason}",
            GuardrailStatus.NoData => $"{Guardrail} no data: {Reason}; policy {NoData}",
            _ => $"{Guardrail} error: {Reason}; policy {NoData}",
        };
    }

    private string TrafficText() => MinimumTrafficQuery is null ? "" : $"; traffic {(Traffic is { } t ? Number(t) : "none")} (minimum {Number(MinimumTraffic ?? 0)})";
}
