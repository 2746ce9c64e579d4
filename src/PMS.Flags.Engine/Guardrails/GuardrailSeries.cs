using System.Globalization;
using System.Text;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// One series a guardrail measured: its labels, the value exactly as the source reported it, whether it meets the
/// breach condition now, and since when it has met it without a break (Prometheus' activeAt). A query that is not
/// aggregated returns one series per status code or handler, and a Prometheus alert fires per series; so does this.
/// </summary>
public sealed record GuardrailSeries
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Labels { get; init; } = NoLabels;

    /// <summary>The sample as the source wrote it ("0.07", "NaN", "+Inf"): the evidence, unrounded.</summary>
    public required string RawValue { get; init; }

    /// <summary>The sample as a number; NaN when the source had no usable number for this series.</summary>
    public double Value { get; init; }

    public bool ConditionMet { get; init; }

    /// <summary>When the condition started to hold without interruption; null while it does not hold.</summary>
    public DateTimeOffset? ActiveSince { get; init; }

    /// <summary>The condition has held for the guardrail's For duration: this series breaches.</summary>
    public bool Firing { get; init; }

    /// <summary>The series identity used for For tracking and evidence: <c>{label="value", …}</c>, names sorted.</summary>
    public string Key => FormatLabels(Labels);

    public static string FormatLabels(IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count == 0)
        {
            return "{}";
        }

        var builder = new StringBuilder("{");
        var first = true;
        foreach (var (name, value) in labels.OrderBy(l => l.Key == "__name__" ? 0 : 1).ThenBy(l => l.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                builder.Append(", ");
            }

            first = false;
            builder.Append(name).Append("=\"").Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }

        return builder.Append('}').ToString();
    }

    public static double ParseSample(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN,
    };

    public override string ToString() => $"{Key} = {RawValue}";
}
