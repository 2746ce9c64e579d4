using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>Newtonsoft settings for the LaunchDarkly wire format; explicit, so no global default changes them.</summary>
internal static class LaunchDarklyJson
{
    public static readonly JsonSerializerSettings Settings = new()
    {
        NullValueHandling = NullValueHandling.Ignore,
        MissingMemberHandling = MissingMemberHandling.Ignore,
        DateParseHandling = DateParseHandling.None,
        FloatParseHandling = FloatParseHandling.Decimal,
        MaxDepth = 64,
    };

    public static string Serialize(object value) => JsonConvert.SerializeObject(value, Formatting.None, Settings);

    public static T Deserialize<T>(string text)
        where T : class
        => JsonConvert.DeserializeObject<T>(text, Settings) ?? throw new JsonSerializationException("The body is empty or null.");

    public static LdError? TryError(string text)
    {
        try
        {
            return JsonConvert.DeserializeObject<LdError>(text, Settings);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
