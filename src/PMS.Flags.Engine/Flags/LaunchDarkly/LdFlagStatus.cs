using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// <c>GET /api/v2/flag-statuses/{projectKey}/{environmentKey}/{flagKey}</c>: whether SDKs evaluate the flag at all
/// ("new", "active", "inactive", "launched"), not whether one particular change has reached them.
/// </summary>
public sealed class LdFlagStatus
{
    [JsonProperty("name")]
    public string? Name { get; set; }

    /// <summary>ISO-8601, when present; kept as text so no time zone is guessed.</summary>
    [JsonProperty("lastRequested")]
    public string? LastRequested { get; set; }
}
