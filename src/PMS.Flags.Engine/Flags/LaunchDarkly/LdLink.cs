using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>An entry of a representation's <c>_links</c>.</summary>
public sealed class LdLink
{
    [JsonProperty("href")]
    public string? Href { get; set; }

    [JsonProperty("type")]
    public string? Type { get; set; }
}
