using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>One change the stand-in applied (a request that changed nothing, or a dry run, leaves no entry).</summary>
public sealed class AuditEntry
{
    [JsonProperty("sequence")]
    public long Sequence { get; init; }

    [JsonProperty("time")]
    public DateTimeOffset Time { get; init; }

    [JsonProperty("project")]
    public string Project { get; init; } = "";

    [JsonProperty("flag")]
    public string Flag { get; init; } = "";

    [JsonProperty("environments")]
    public List<string> Environments { get; init; } = new();

    [JsonProperty("comment")]
    public string? Comment { get; init; }

    /// <summary>"semantic-patch" or "json-patch".</summary>
    [JsonProperty("patchKind")]
    public string PatchKind { get; init; } = "";

    /// <summary>The instructions or JSON Patch operations.</summary>
    [JsonProperty("changes")]
    public JToken? Changes { get; init; }

    /// <summary>Environment key → [version before, version after].</summary>
    [JsonProperty("versions")]
    public Dictionary<string, long[]> Versions { get; init; } = new();
}
