using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>An environment's approval settings: when <c>required</c>, flag changes answer 405 and need an approval request.</summary>
public sealed class LdApprovalSettings
{
    [JsonProperty("required")]
    public bool Required { get; set; }
}
