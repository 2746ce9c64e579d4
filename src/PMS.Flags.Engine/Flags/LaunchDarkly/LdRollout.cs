using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>A percentage rollout: weights in thousandths of a percent that sum to 100000.</summary>
public sealed class LdRollout
{
    [JsonProperty("variations")]
    public List<LdWeightedVariation> Variations { get; set; } = new();

    /// <summary>The context attribute to bucket by; absent means "key".</summary>
    [JsonProperty("bucketBy")]
    public string? BucketBy { get; set; }

    /// <summary>The context kind to bucket; absent means "user".</summary>
    [JsonProperty("contextKind")]
    public string? ContextKind { get; set; }
}
