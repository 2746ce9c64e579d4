using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>One page of <c>GET /api/v2/projects/{projectKey}/environments</c>.</summary>
public sealed class LdEnvironmentPage
{
    [JsonProperty("items")]
    public List<LdEnvironment> Items { get; set; } = new();

    [JsonProperty("totalCount")]
    public int? TotalCount { get; set; }

    [JsonProperty("_links")]
    public Dictionary<string, LdLink>? Links { get; set; }
}
