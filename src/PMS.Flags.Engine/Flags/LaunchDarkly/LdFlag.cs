using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>A feature flag as <c>GET /api/v2/flags/{projectKey}/{flagKey}</c> and a successful PATCH return it (the fields we use).</summary>
public sealed class LdFlag
{
    [JsonProperty("key")]
    public string Key { get; set; } = "";

    [JsonProperty("name")]
    public string? Name { get; set; }

    /// <summary>"boolean" or "multivariate".</summary>
    [JsonProperty("kind")]
    public string? Kind { get; set; }

    [JsonProperty("_version")]
    public long? Version { get; set; }

    [JsonProperty("archived")]
    public bool Archived { get; set; }

    [JsonProperty("variations")]
    public List<LdVariation> Variations { get; set; } = new();

    /// <summary>Per-environment configuration, keyed by environment key; only the environments asked for with <c>env</c>.</summary>
    [JsonProperty("environments")]
    public Dictionary<string, LdFlagEnvironment> Environments { get; set; } = new(StringComparer.Ordinal);

    public override string ToString() => Key;
}
