using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>A project from <c>GET /api/v2/projects/{projectKey}</c> (without <c>expand</c>: no environments).</summary>
public sealed class LdProject
{
    [JsonProperty("key")]
    public string Key { get; set; } = "";

    [JsonProperty("name")]
    public string? Name { get; set; }

    public override string ToString() => Key;
}
