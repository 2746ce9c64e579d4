using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>A flag's configuration in one environment.</summary>
public sealed class LdFlagEnvironment
{
    [JsonProperty("on")]
    public bool On { get; set; }

    [JsonProperty("archived")]
    public bool Archived { get; set; }

    /// <summary>Increases with every change of this environment's configuration.</summary>
    [JsonProperty("version")]
    public long? Version { get; set; }

    /// <summary>Epoch milliseconds.</summary>
    [JsonProperty("lastModified")]
    public long? LastModified { get; set; }

    /// <summary>Index of the variation served while the flag is off; null when unset (the application's fallback is served).</summary>
    [JsonProperty("offVariation")]
    public int? OffVariation { get; set; }

    /// <summary>The default rule.</summary>
    [JsonProperty("fallthrough")]
    public LdVariationOrRollout? Fallthrough { get; set; }

    /// <summary>Targeting rules; absent from list summaries unless <c>summary=0</c>.</summary>
    [JsonProperty("rules")]
    public List<LdRule>? Rules { get; set; }
}
