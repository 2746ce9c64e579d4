using Newtonsoft.Json;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>
/// One request as the Kubernetes stand-in saw it. The bearer token is never recorded: only whether it was "missing",
/// "invalid" or "valid", and whether it came over https.
/// </summary>
public sealed class KubeRequest
{
    [JsonProperty("sequence")]
    public long Sequence { get; init; }

    [JsonProperty("time")]
    public DateTimeOffset Time { get; init; }

    [JsonProperty("scheme")]
    public string Scheme { get; init; } = "http";

    [JsonProperty("method")]
    public string Method { get; init; } = "";

    [JsonProperty("path")]
    public string Path { get; init; } = "";

    /// <summary>The raw query string including "?", or "".</summary>
    [JsonProperty("query")]
    public string Query { get; init; } = "";

    [JsonProperty("userAgent")]
    public string UserAgent { get; init; } = "";

    [JsonProperty("contentType")]
    public string? ContentType { get; init; }

    [JsonProperty("accept")]
    public string? Accept { get; init; }

    [JsonProperty("authorization")]
    public string Authorization { get; init; } = "missing";

    [JsonProperty("body")]
    public string? Body { get; init; }

    [JsonProperty("status")]
    public int Status { get; set; }
}
