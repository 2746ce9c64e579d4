using System.Globalization;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// What a cohort guardrail measured and concluded at one look: requests and bad requests per cohort, both rates, the
/// estimated relative regression with its always-valid interval, and the test statistic beside its threshold. It goes
/// into the ledger with the guardrail_evaluated event (<see cref="ToJson"/>) and is what Test-FlagGuardrail shows.
/// </summary>
public sealed record CohortEvidence
{
    public string? Flag { get; init; }

    public string? VariantLabel { get; init; }

    public string? Treatment { get; init; }

    public string? Control { get; init; }

    /// <summary>The counting window: since the stage reached users, or the guardrail's window outside a rollout.</summary>
    public TimeSpan Window { get; init; }

    public DateTimeOffset? Since { get; init; }

    public double TreatmentRequests { get; init; }

    public double TreatmentBad { get; init; }

    public double ControlRequests { get; init; }

    public double ControlBad { get; init; }

    public double TreatmentRate => TreatmentRequests > 0 ? TreatmentBad / TreatmentRequests : double.NaN;

    public double ControlRate => ControlRequests > 0 ? ControlBad / ControlRequests : double.NaN;

    /// <summary>The treatment's share of all requests (the conditional binomial's null probability).</summary>
    public double Share { get; init; } = double.NaN;

    /// <summary>rate_T / rate_C - 1: +1 means the exposed cohort fails twice as often. NaN without traffic.</summary>
    public double Estimate { get; init; } = double.NaN;

    /// <summary>The always-valid (1 - α) interval of <see cref="Estimate"/>; -1 and +∞ are its edges.</summary>
    public double Lower { get; init; } = -1;

    public double Upper { get; init; } = double.PositiveInfinity;

    /// <summary>The log likelihood ratio Λ; NaN when a cohort has no requests.</summary>
    public double Statistic { get; init; }

    /// <summary>ln(1/α): the test concludes when <see cref="Statistic"/> reaches it.</summary>
    public double Threshold { get; init; }

    public double FalseAlarmRate { get; init; }

    public double MinimumRelativeRegression { get; init; }

    public bool Concluded { get; init; }

    public string Method { get; init; } = CohortSequentialTest.Method;

    public string? BadQuery { get; init; }

    public string? TotalQuery { get; init; }

    /// <summary>One line: both cohorts, the estimate with its interval, and the statistic against its threshold.</summary>
    public string Summary
        => $"{Treatment} {Rate(TreatmentRate)} ({Count(TreatmentBad)}/{Count(TreatmentRequests)}) vs {Control} {Rate(ControlRate)} ({Count(ControlBad)}/{Count(ControlRequests)}); "
           + $"{Signed(Estimate)} [{Signed(Lower)}, {Signed(Upper)}]; LLR {Fixed(Statistic)} of {Fixed(Threshold)}";

    public JObject ToJson() => new()
    {
        ["method"] = Method,
        ["flag"] = Flag,
        ["variant_label"] = VariantLabel,
        ["treatment"] = Treatment,
        ["control"] = Control,
        ["window"] = GuardrailJson.Span(Window),
        ["since"] = Since is { } since ? GuardrailJson.Time(since) : null,
        ["treatment_requests"] = GuardrailJson.Number(Round(TreatmentRequests)),
        ["treatment_bad"] = GuardrailJson.Number(Round(TreatmentBad)),
        ["control_requests"] = GuardrailJson.Number(Round(ControlRequests)),
        ["control_bad"] = GuardrailJson.Number(Round(ControlBad)),
        ["treatment_rate"] = GuardrailJson.Number(Round(TreatmentRate)),
        ["control_rate"] = GuardrailJson.Number(Round(ControlRate)),
        ["treatment_share"] = GuardrailJson.Number(Round(Share)),
        ["estimate"] = GuardrailJson.Number(Round(Estimate)),
        ["interval_lower"] = GuardrailJson.Number(Round(Lower)),
        ["interval_upper"] = GuardrailJson.Number(Round(Upper)),
        ["statistic"] = GuardrailJson.Number(Round(Statistic)),
        ["threshold"] = GuardrailJson.Number(Round(Threshold)),
        ["false_alarm_rate"] = GuardrailJson.Number(FalseAlarmRate),
        ["minimum_relative_regression"] = GuardrailJson.Number(MinimumRelativeRegression),
        ["concluded"] = Concluded,
        ["bad_query"] = BadQuery,
        ["total_query"] = TotalQuery,
    };

    public static CohortEvidence FromJson(JObject o) => new()
    {
        Method = (string?)o["method"] ?? CohortSequentialTest.Method,
        Flag = (string?)o["flag"],
        VariantLabel = (string?)o["variant_label"],
        Treatment = (string?)o["treatment"],
        Control = (string?)o["control"],
        Window = GuardrailJson.ReadSpan(o["window"]) ?? TimeSpan.Zero,
        Since = GuardrailJson.ReadTime(o["since"]),
        TreatmentRequests = GuardrailJson.ReadDouble(o["treatment_requests"]) ?? 0,
        TreatmentBad = GuardrailJson.ReadDouble(o["treatment_bad"]) ?? 0,
        ControlRequests = GuardrailJson.ReadDouble(o["control_requests"]) ?? 0,
        ControlBad = GuardrailJson.ReadDouble(o["control_bad"]) ?? 0,
        Share = GuardrailJson.ReadDouble(o["treatment_share"]) ?? double.NaN,
        Estimate = GuardrailJson.ReadDouble(o["estimate"]) ?? double.NaN,
        Lower = GuardrailJson.ReadDouble(o["interval_lower"]) ?? -1,
        Upper = GuardrailJson.ReadDouble(o["interval_upper"]) ?? double.PositiveInfinity,
        Statistic = GuardrailJson.ReadDouble(o["statistic"]) ?? double.NaN,
        Threshold = GuardrailJson.ReadDouble(o["threshold"]) ?? double.NaN,
        FalseAlarmRate = GuardrailJson.ReadDouble(o["false_alarm_rate"]) ?? double.NaN,
        MinimumRelativeRegression = GuardrailJson.ReadDouble(o["minimum_relative_regression"]) ?? double.NaN,
        Concluded = (bool?)o["concluded"] ?? false,
        BadQuery = (string?)o["bad_query"],
        TotalQuery = (string?)o["total_query"],
    };

    public override string ToString() => Summary;

    // Ledger numbers are decimals; nine significant digits are more than any count or rate here needs.
    private static double Round(double value) => double.IsFinite(value) ? double.Parse(value.ToString("G9", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : value;

    private static string Rate(double rate) => double.IsNaN(rate) ? "n/a" : (rate * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    private static string Count(double count) => Math.Round(count).ToString("0", CultureInfo.InvariantCulture);

    private static string Signed(double relative) => double.IsNaN(relative) ? "n/a"
        : double.IsPositiveInfinity(relative) ? "+inf"
        : (relative >= 0 ? "+" : "") + (relative * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Fixed(double value) => double.IsNaN(value) ? "n/a" : value.ToString("0.00", CultureInfo.InvariantCulture);
}
