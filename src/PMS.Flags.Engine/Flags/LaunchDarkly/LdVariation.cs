using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>One variation of a flag: its stable <c>_id</c> (what semantic patches name) and its value.</summary>
public sealed class LdVariation
{
    [JsonProperty("_id")]
    public string? Id { get; set; }

    [JsonProperty("value")]
    public JToken? Value { get; set; }

    [JsonProperty("name")]
    public string? Name { get; set; }
}
