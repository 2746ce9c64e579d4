using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>A targeting rule, addressed by its <c>_id</c>; serves a variation or a rollout like the default rule.</summary>
public sealed class LdRule
{
    [JsonProperty("_id")]
    public string? Id { get; set; }

    [JsonProperty("description")]
    public string? Description { get; set; }

    [JsonProperty("disabled")]
    public bool? Disabled { get; set; }

    [JsonProperty("variation")]
    public int? Variation { get; set; }

    [JsonProperty("rollout")]
    public LdRollout? Rollout { get; set; }
}
