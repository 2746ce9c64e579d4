using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>One page of <c>GET /api/v2/flags/{projectKey}</c>; follow <c>_links.next</c> until there is none.</summary>
public sealed class LdFlagPage
{
    [JsonProperty("items")]
    public List<LdFlag> Items { get; set; } = new();

    [JsonProperty("totalCount")]
    public int? TotalCount { get; set; }

    [JsonProperty("_links")]
    public Dictionary<string, LdLink>? Links { get; set; }
}
