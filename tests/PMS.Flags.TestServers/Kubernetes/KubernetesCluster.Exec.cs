using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>What the stand-in's "kubelet" needs to run a command as if inside one container of a pod.</summary>
public sealed class ExecTarget
{
    public required string Pod { get; init; }

    public required string Container { get; init; }

    /// <summary>The container's literal env entries (name/value), as its process would see them.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>The container's workingDir, or "/" like an image without WORKDIR.</summary>
    public required string WorkingDirectory { get; init; }
}

public sealed partial class KubernetesCluster
{
    private int dropExecAfterLines = -1;
    private string? dropExecMatching;

    /// <summary>
    /// One-shot fault: the next exec whose command line contains <paramref name="commandContains"/> (any, if null) is
    /// cut after this many output lines; the command keeps running, as it does in a real container.
    /// </summary>
    public void DropNextExecAfter(int lines, string? commandContains)
    {
        lock (gate)
        {
            dropExecAfterLines = lines;
            dropExecMatching = commandContains;
        }
    }

    /// <summary>Takes the armed drop if this command matches it, so only one exec is cut.</summary>
    public int? TakeExecDrop(IReadOnlyList<string> command)
    {
        lock (gate)
        {
            if (dropExecAfterLines < 0 || (dropExecMatching is not null && !string.Join(" ", command).Contains(dropExecMatching, StringComparison.Ordinal)))
            {
                return null;
            }

            var lines = dropExecAfterLines;
            dropExecAfterLines = -1;
            return lines;
        }
    }

    /// <summary>The API server's checks before it upgrades an exec: the pod exists, the container is in it and running.</summary>
    public ExecTarget ResolveExec(string ns, string podName, string? container)
    {
        lock (gate)
        {
            RequireNamespace("pods", ns, podName);
            var json = Find("pods", ns, podName) ?? throw KubeError.NotFound("pods", podName);
            var pod = kubelet[podName];
            var containers = (json["spec"]?["containers"] as JArray ?? new JArray()).OfType<JObject>().ToArray();
            var spec = container is null ? containers.FirstOrDefault() : containers.FirstOrDefault(c => (string?)c["name"] == container);
            if (spec is null)
            {
                throw KubeError.BadRequest($"container {container} is not valid for pod {podName}");
            }

            if (!pod.Started || pod.CrashLoop)
            {
                throw KubeError.BadRequest($"unable to upgrade connection: container not found (\"{spec["name"]}\")");
            }

            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in (spec["env"] as JArray ?? new JArray()).OfType<JObject>())
            {
                // valueFrom (secrets, field refs) is not simulated: such a variable is absent, as if its source were empty.
                if ((string?)variable["name"] is { Length: > 0 } name && variable["value"] is JValue { Type: JTokenType.String } value)
                {
                    environment[name] = (string)value!;
                }
            }

            return new ExecTarget
            {
                Pod = podName,
                Container = (string)spec["name"]!,
                Environment = environment,
                WorkingDirectory = (string?)spec["workingDir"] is { Length: > 0 } dir ? dir : "/",
            };
        }
    }
}
