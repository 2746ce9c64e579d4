using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A project environment from <c>GET /api/v2/projects/{projectKey}/environments</c>. The service also returns the
/// environment's SDK key, mobile key and client-side id; they are secrets of another kind and deliberately not mapped.
/// </summary>
public sealed class LdEnvironment
{
    [JsonProperty("key")]
    public string Key { get; set; } = "";

    [JsonProperty("name")]
    public string? Name { get; set; }

    [JsonProperty("critical")]
    public bool? Critical { get; set; }

    [JsonProperty("approvalSettings")]
    public LdApprovalSettings? ApprovalSettings { get; set; }

    public override string ToString() => Key;
}
