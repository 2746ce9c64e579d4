using System.Globalization;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// How guardrail and rollout data is spelled in ledger details: times as ISO-8601 UTC, durations as "c" TimeSpans
/// ("00:02:00"), enums by name. Numbers go in as decimals because the ledger's codec reads details back as decimals;
/// writing a double it cannot represent would make the append fail, so such a value is written as text instead.
/// </summary>
internal static class GuardrailJson
{
    public static JToken Number(double? value)
    {
        if (value is not { } v)
        {
            return JValue.CreateNull();
        }

        if (double.IsFinite(v) && Math.Abs(v) < 1e20)
        {
            var asDecimal = decimal.Parse(v.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
            return asDecimal == decimal.Truncate(asDecimal) && Math.Abs(asDecimal) < long.MaxValue ? new JValue((long)asDecimal) : new JValue(asDecimal);
        }

        return new JValue(v.ToString("R", CultureInfo.InvariantCulture));
    }

    public static double? ReadDouble(JToken? token) => token?.Type switch
    {
        null or JTokenType.Null => null,
        JTokenType.String => GuardrailSeries.ParseSample((string)token!),
        _ => (double)token!,
    };

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ReadTime(JToken? token)
        => token is null || token.Type == JTokenType.Null
            ? null
            : DateTimeOffset.Parse((string)token!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string Span(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    public static TimeSpan? ReadSpan(JToken? token)
        => token is null || token.Type == JTokenType.Null ? null : TimeSpan.ParseExact((string)token!, "c", CultureInfo.InvariantCulture);

    public static T Enum<T>(JToken? token, T fallback)
        where T : struct, System.Enum
        => token is not null && token.Type == JTokenType.String && System.Enum.TryParse<T>((string)token!, ignoreCase: true, out var value) ? value : fallback;
}
