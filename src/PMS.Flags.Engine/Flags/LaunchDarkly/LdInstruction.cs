using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// One semantic patch instruction. We use <c>turnFlagOn</c>, <c>turnFlagOff</c>, <c>updateFallthroughVariationOrRollout</c>
/// and <c>updateRuleVariationOrRollout</c> (with <c>ruleId</c>); the last two take either <c>variationId</c> or
/// <c>rolloutWeights</c> naming every variation.
/// </summary>
public sealed class LdInstruction
{
    public const string TurnFlagOn = "turnFlagOn";
    public const string TurnFlagOff = "turnFlagOff";
    public const string UpdateFallthrough = "updateFallthroughVariationOrRollout";
    public const string UpdateRule = "updateRuleVariationOrRollout";

    [JsonProperty("kind")]
    public string Kind { get; set; } = "";

    [JsonProperty("ruleId", NullValueHandling = NullValueHandling.Ignore)]
    public string? RuleId { get; set; }

    [JsonProperty("variationId", NullValueHandling = NullValueHandling.Ignore)]
    public string? VariationId { get; set; }

    /// <summary>Variation <c>_id</c> → weight in thousandths of a percent; the weights sum to exactly 100000.</summary>
    [JsonProperty("rolloutWeights", NullValueHandling = NullValueHandling.Ignore)]
    public Dictionary<string, int>? RolloutWeights { get; set; }

    [JsonProperty("rolloutBucketBy", NullValueHandling = NullValueHandling.Ignore)]
    public string? RolloutBucketBy { get; set; }

    [JsonProperty("rolloutContextKind", NullValueHandling = NullValueHandling.Ignore)]
    public string? RolloutContextKind { get; set; }
}
