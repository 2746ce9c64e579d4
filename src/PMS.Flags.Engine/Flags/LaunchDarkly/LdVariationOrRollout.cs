using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>What the default rule serves: either one variation (by index) or a percentage rollout.</summary>
public sealed class LdVariationOrRollout
{
    [JsonProperty("variation")]
    public int? Variation { get; set; }

    [JsonProperty("rollout")]
    public LdRollout? Rollout { get; set; }
}
