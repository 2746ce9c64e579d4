using System.Globalization;
using System.Text.RegularExpressions;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// The PromQL a cohort guardrail sends: bad requests and all requests, each summed per variant over a window. The label
/// defaults are OpenTelemetry's feature-flag semantic conventions (<c>feature_flag.key</c>,
/// <c>feature_flag.result.variant</c>) as the Prometheus exporter spells them. Custom queries may use <c>$window</c>
/// (the counting window, e.g. <c>754s</c>) and <c>$flag</c> (the flag key, escaped for a PromQL string).
/// </summary>
public static partial class CohortQueries
{
    public const string DefaultFlagLabel = "feature_flag_key";
    public const string DefaultVariantLabel = "feature_flag_result_variant";
    public const string ErrorRate = "CohortErrorRate";
    public const string SlowRequests = "CohortSlowRequests";

    /// <summary>The named cohort metrics: 5xx over all requests, and requests slower than 2 s over all requests.</summary>
    public static IReadOnlyList<string> Metrics { get; } = new[] { ErrorRate, SlowRequests };

    public static bool IsLabelName(string? name) => name is not null && LabelName().IsMatch(name);

    /// <summary>The queries to send for a counting window, the flag filled in.</summary>
    public static (string Bad, string Total) Build(GuardrailDefinition definition, string flag, TimeSpan window)
    {
        var range = Range(window);
        var escaped = EscapeString(flag);
        var (bad, total) = Templates(definition);
        return (Fill(bad, escaped, range), Fill(total, escaped, range));
    }

    /// <summary>The queries with <c>$window</c> (and, while no flag is bound, <c>$flag</c>) left as placeholders.</summary>
    public static (string Bad, string Total) Templates(GuardrailDefinition definition)
    {
        var flag = definition.Flag is { } f ? EscapeString(f) : "$flag";
        var selector = $"{definition.FlagLabel}=\"{flag}\"";
        var by = $"sum by ({definition.VariantLabel})";
        return definition.Preset switch
        {
            ErrorRate => (
                $"{by} (increase(http_requests_total{{{selector},status=~\"5..\"}}[$window]))",
                $"{by} (increase(http_requests_total{{{selector}}}[$window]))"),
            SlowRequests => (
                // The histogram's 2 s bucket against its count: the playbook's "p95 > 2 s" as a count two cohorts can be
                // compared on. Clients spell the bucket "2" (Go) or "2.0" (Python); both match.
                $"{by} (increase(http_request_duration_seconds_count{{{selector}}}[$window])) - {by} (increase(http_request_duration_seconds_bucket{{{selector},le=~\"2|2\\\\.0\"}}[$window]))",
                $"{by} (increase(http_request_duration_seconds_count{{{selector}}}[$window]))"),
            _ => (definition.BadQuery ?? "", definition.TotalQuery ?? ""),
        };
    }

    /// <summary>The definition's Expression: what is compared, and how.</summary>
    public static string Describe(GuardrailDefinition d)
    {
        var what = d.Preset ?? "custom counts";
        var flag = d.Flag is null ? "the rollout's flag" : $"'{d.Flag}'";
        return $"{what} of {flag}: {d.VariantLabel}=\"{d.Treatment}\" vs \"{d.Control}\", SPRT for +{Percent(d.MinimumRelativeRegression)} at {Percent(d.FalseAlarmRate)} false alarms, min {d.MinimumSamples.ToString(CultureInfo.InvariantCulture)} requests";
    }

    /// <summary>A PromQL range: whole seconds, rounded up, at least one.</summary>
    public static string Range(TimeSpan window) => $"{Math.Max(1, (long)Math.Ceiling(window.TotalSeconds)).ToString(CultureInfo.InvariantCulture)}s";

    public static string EscapeString(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    internal static string Percent(double fraction) => (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    private static string Fill(string template, string escapedFlag, string range)
        => template.Replace("$window", range, StringComparison.Ordinal).Replace("$flag", escapedFlag, StringComparison.Ordinal);

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
