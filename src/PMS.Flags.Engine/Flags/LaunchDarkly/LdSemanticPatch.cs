using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A semantic patch body (<c>Content-Type: application/json; domain-model=launchdarkly.semanticpatch</c>). Its
/// instructions apply atomically and state absolute targets, so sending it twice is safe.
/// </summary>
public sealed class LdSemanticPatch
{
    [JsonProperty("environmentKey")]
    public string? EnvironmentKey { get; set; }

    /// <summary>Kept in LaunchDarkly's own audit log: reason and ticket, never a secret.</summary>
    [JsonProperty("comment")]
    public string? Comment { get; set; }

    [JsonProperty("instructions")]
    public List<LdInstruction> Instructions { get; set; } = new();
}
