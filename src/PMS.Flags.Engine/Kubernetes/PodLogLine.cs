using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>One line of a pod's log; a JSON object line is parsed into <see cref="Json"/> so callers can read its fields.</summary>
public sealed record PodLogLine(string Pod, string Container, DateTimeOffset? Time, string Text, JObject? Json)
{
    public override string ToString() => $"{Pod} {Text}";
}
