using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>One slice of a rollout: a variation index and its weight (thousandths of a percent).</summary>
public sealed class LdWeightedVariation
{
    [JsonProperty("variation")]
    public int Variation { get; set; }

    [JsonProperty("weight")]
    public int Weight { get; set; }
}
