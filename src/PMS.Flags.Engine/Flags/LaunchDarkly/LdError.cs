using Newtonsoft.Json;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>LaunchDarkly's error body: <c>{"code": "snake_case", "message": "…", "id": "request id"}</c>.</summary>
public sealed class LdError
{
    [JsonProperty("code")]
    public string? Code { get; set; }

    [JsonProperty("message")]
    public string? Message { get; set; }

    /// <summary>The request id support asks for.</summary>
    [JsonProperty("id")]
    public string? Id { get; set; }
}
