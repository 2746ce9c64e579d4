using Newtonsoft.Json;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// One API request as the stand-in saw it. The Authorization header's value is never recorded: only whether it was
/// "missing", "invalid", "valid" or "read-only".
/// </summary>
public sealed class RecordedRequest
{
    [JsonProperty("sequence")]
    public long Sequence { get; init; }

    [JsonProperty("time")]
    public DateTimeOffset Time { get; init; }

    [JsonProperty("method")]
    public string Method { get; init; } = "";

    [JsonProperty("path")]
    public string Path { get; init; } = "";

    /// <summary>The raw query string including "?", or "".</summary>
    [JsonProperty("query")]
    public string Query { get; init; } = "";

    [JsonProperty("headers")]
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    [JsonProperty("authorization")]
    public string Authorization { get; init; } = "missing";

    [JsonProperty("body")]
    public string? Body { get; init; }

    [JsonProperty("status")]
    public int Status { get; set; }

    /// <summary>The injected fault this request got, if any.</summary>
    [JsonProperty("fault")]
    public string? Fault { get; set; }

    /// <summary>True when the request came while a 429's window was still open: the client retried earlier than told.</summary>
    [JsonProperty("early")]
    public bool Early { get; set; }
}
