using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>
/// The stand-in's cluster: objects with real resourceVersion semantics (one global counter, 409 on a stale write,
/// no bump on a no-op), a deployment controller (generation/observedGeneration, one ReplicaSet per distinct template
/// with revision annotations, rolling replacement one pod at a time with maxSurge 1 and maxUnavailable 0,
/// ProgressDeadlineExceeded), a kubelet (pods become ready after PodReadySeconds or crash-loop), events, logs and
/// watches. Everything runs under one lock; the controller ticks every 20 ms.
/// </summary>
public sealed partial class KubernetesCluster
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";
    private static readonly string[] Core = { "configmaps", "pods", "events", "namespaces" };
    private static readonly string[] Apps = { "deployments", "replicasets" };

    private readonly object gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JObject>> objects = new();
    private readonly Dictionary<string, SimulatedPod> kubelet = new();
    private readonly Dictionary<string, DateTimeOffset> lastProgress = new();
    private readonly List<Watcher> watchers = new();
    private readonly List<KubeRequest> requests = new();
    private readonly Dictionary<string, JObject> interference = new();
    private readonly Random random = new(13);
    private long resourceVersion = 1000;
    private long requestSequence;
    private int roundRobin;

    public KubernetesCluster(KubernetesStandInOptions options)
    {
        Options = options;
        Reset();
    }

    public KubernetesStandInOptions Options { get; }

    public double PodReadySeconds { get; set; }

    public bool CrashLoop { get; set; }

    public string CrashReason { get; set; } = "Error";

    public bool Metrics { get; set; }

    /// <summary>How long the stand-in takes to replace every pod of a deployment: replicas × PodReadySeconds.</summary>
    public double ConfiguredRolloutSeconds(string ns, string deployment)
    {
        lock (gate)
        {
            var d = Find("deployments", ns, deployment);
            return ((int?)d?["spec"]?["replicas"] ?? 0) * PodReadySeconds;
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            objects.Clear();
            kubelet.Clear();
            lastProgress.Clear();
            interference.Clear();
            requests.Clear();
            dropExecAfterLines = -1;
            PodReadySeconds = Options.PodReadySeconds;
            CrashLoop = false;
            CrashReason = "Error";
            Metrics = Options.Metrics;
            foreach (var resource in Core.Concat(Apps))
            {
                objects[resource] = new SortedDictionary<string, JObject>(StringComparer.Ordinal);
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var ns in new[] { "default", "kube-system", Options.Namespace }.Distinct())
            {
                Store("namespaces", "", new JObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Namespace",
                    ["metadata"] = new JObject { ["name"] = ns, ["uid"] = Guid.NewGuid().ToString(), ["creationTimestamp"] = KubeJson.Time(now), ["labels"] = new JObject { ["kubernetes.io/metadata.name"] = ns } },
                    ["spec"] = new JObject { ["finalizers"] = new JArray("kubernetes") },
                    ["status"] = new JObject { ["phase"] = "Active" },
                });
            }

            Store("configmaps", Options.Namespace, new JObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ConfigMap",
                ["metadata"] = new JObject { ["name"] = Options.ConfigMapName, ["namespace"] = Options.Namespace, ["uid"] = Guid.NewGuid().ToString(), ["creationTimestamp"] = KubeJson.Time(now) },
                ["data"] = new JObject { [Options.ConfigMapKey] = Options.Document ?? DefaultDocument },
            });

            var deployment = new JObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "Deployment",
                ["metadata"] = new JObject
                {
                    ["name"] = Options.DeploymentName,
                    ["namespace"] = Options.Namespace,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["generation"] = 1,
                    ["creationTimestamp"] = KubeJson.Time(now),
                    ["labels"] = new JObject { ["app"] = Options.DeploymentName },
                    ["annotations"] = new JObject(),
                },
                ["spec"] = new JObject
                {
                    ["replicas"] = Options.Replicas,
                    ["selector"] = new JObject { ["matchLabels"] = new JObject { ["app"] = Options.DeploymentName } },
                    ["template"] = new JObject
                    {
                        ["metadata"] = new JObject { ["labels"] = new JObject { ["app"] = Options.DeploymentName } },
                        ["spec"] = new JObject
                        {
                            ["containers"] = new JArray(new JObject
                            {
                                ["name"] = "backend",
                                ["image"] = "registry.example.com/pms-backend:1.4.2",
                                ["ports"] = new JArray(new JObject { ["containerPort"] = 8000, ["protocol"] = "TCP" }),
                                ["volumeMounts"] = new JArray(new JObject { ["name"] = "flags", ["mountPath"] = "/app/config" }),
                            }),
                            ["volumes"] = new JArray(new JObject { ["name"] = "flags", ["configMap"] = new JObject { ["name"] = Options.ConfigMapName } }),
                        },
                    },
                    ["strategy"] = new JObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JObject { ["maxSurge"] = 1, ["maxUnavailable"] = 0 } },
                    ["revisionHistoryLimit"] = 10,
                    ["progressDeadlineSeconds"] = Options.ProgressDeadlineSeconds,
                },
                ["status"] = new JObject(),
            };
            DefaultTemplate((JObject)deployment["spec"]!["template"]!);
            Store("deployments", Options.Namespace, deployment);

            // The initial pods exist and are ready from the start, each having read the initial document.
            for (var i = 0; i <= Options.Replicas + 1; i++)
            {
                Reconcile(now);
                foreach (var pod in kubelet.Values.Where(p => !p.Started).ToArray())
                {
                    StartContainer(pod, pod.CreatedAt);
                }
            }

            lastProgress.Clear();
            Reconcile(now);
        }
    }

    public const string DefaultDocument = "{\n  \"staging\": {\n    \"new_billing_engine\": { \"enabled\": true, \"rollout_percentage\": 10 },\n    \"telehealth_appointments_enabled\": false\n  },\n  \"production\": {\n    \"new_billing_engine\": false,\n    \"telehealth_appointments_enabled\": false,\n    \"patient_portal_v2\": { \"enabled\": true, \"rollout_percentage\": 25 }\n  }\n}\n";

    // ---------------------------------------------------------------- requests

    public KubeRequest Record(Func<long, KubeRequest> create)
    {
        lock (gate)
        {
            var request = create(++requestSequence);
            requests.Add(request);
            return request;
        }
    }

    public IReadOnlyList<KubeRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToArray();
            }
        }
    }

    public void ClearRequests()
    {
        lock (gate)
        {
            requests.Clear();
        }
    }

    // ---------------------------------------------------------------- reads

    public static string? GroupOf(string resource) => Apps.Contains(resource) ? "apps" : Core.Contains(resource) ? null : throw KubeError.NotFound(resource, "", null);

    public JObject Get(string resource, string ns, string name)
    {
        lock (gate)
        {
            RequireNamespace(resource, ns, name);
            return (JObject)(Find(resource, ns, name) ?? throw KubeError.NotFound(resource, name, GroupOf(resource))).DeepClone();
        }
    }

    public JObject List(string resource, string? ns, string? labelSelector, string? fieldSelector)
    {
        lock (gate)
        {
            var kind = KindOf(resource);
            var items = objects[resource].Values
                .Where(o => ns is null || (string?)o["metadata"]?["namespace"] == ns || resource == "namespaces")
                .Where(o => KubeJson.MatchesLabels(o["metadata"]?["labels"] as JObject, labelSelector))
                .Where(o => KubeJson.MatchesFields(o, fieldSelector))
                .Select(o => o.DeepClone())
                .ToArray();
            return new JObject
            {
                ["kind"] = kind + "List",
                ["apiVersion"] = ApiVersionOf(resource),
                ["metadata"] = new JObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
                ["items"] = new JArray(items),
            };
        }
    }

    public long CurrentResourceVersion
    {
        get
        {
            lock (gate)
            {
                return resourceVersion;
            }
        }
    }

    // ---------------------------------------------------------------- writes

    public JObject Create(string resource, string ns, JObject body, string manager = "unknown")
    {
        lock (gate)
        {
            if (resource != "configmaps")
            {
                throw new KubeError(405, "MethodNotAllowed", $"the stand-in creates only configmaps, not {resource}");
            }

            RequireNamespace(resource, ns, (string?)body["metadata"]?["name"] ?? "");
            var name = (string?)body["metadata"]?["name"];
            if (string.IsNullOrEmpty(name))
            {
                throw KubeError.Invalid("ConfigMap", "", "metadata.name: Required value: name or generateName is required");
            }

            if (Find(resource, ns, name) is not null)
            {
                throw new KubeError(409, "AlreadyExists", $"configmaps \"{name}\" already exists", new JObject { ["name"] = name, ["kind"] = "configmaps" });
            }

            ValidateConfigMap(body, name);
            var stored = (JObject)body.DeepClone();
            var metadata = (JObject)stored["metadata"]!;
            metadata["namespace"] = ns;
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = KubeJson.Time(DateTimeOffset.UtcNow);
            metadata.Remove("resourceVersion");
            stored["apiVersion"] = "v1";
            stored["kind"] = "ConfigMap";
            metadata.Remove("managedFields");
            Manage(stored, manager, DateTimeOffset.UtcNow);
            Store(resource, ns, stored);
            Notify(resource, "ADDED", stored);
            return (JObject)stored.DeepClone();
        }
    }

    public JObject Replace(string resource, string ns, string name, JObject body, string manager = "unknown")
    {
        lock (gate)
        {
            Interfere(resource, ns, name);
            var current = Get(resource, ns, name);
            return Write(resource, ns, name, current, body, manager);
        }
    }

    public JObject Patch(string resource, string ns, string name, string contentType, string text, string manager = "unknown")
    {
        lock (gate)
        {
            Interfere(resource, ns, name);
            var current = Get(resource, ns, name);
            JToken patch;
            try
            {
                patch = JToken.Parse(text);
            }
            catch (JsonException ex)
            {
                throw KubeError.BadRequest($"error decoding patch: {ex.Message}");
            }

            var mediaType = contentType.Split(';')[0].Trim();
            JObject patched = mediaType switch
            {
                "application/merge-patch+json" when patch is JObject => (JObject)KubeJson.MergePatch(current, patch),
                "application/strategic-merge-patch+json" when patch is JObject => (JObject)KubeJson.StrategicMergePatch(current, patch),
                "application/json-patch+json" when patch is JArray operations => KubeJson.JsonPatch(current, operations, KindOf(resource), name),
                "application/merge-patch+json" or "application/strategic-merge-patch+json" or "application/json-patch+json"
                    => throw KubeError.BadRequest("the body of the request does not match the patch type"),
                _ => throw KubeError.UnsupportedMediaType(contentType),
            };

            // A patch that does not name a resourceVersion applies to whatever is current.
            if (patched["metadata"]?["resourceVersion"] is null)
            {
                patched["metadata"]!["resourceVersion"] = current["metadata"]!["resourceVersion"];
            }

            return Write(resource, ns, name, current, patched, manager);
        }
    }

    public JObject Delete(string resource, string ns, string name)
    {
        lock (gate)
        {
            var current = Get(resource, ns, name);
            objects[resource].Remove(Key(ns, name));
            if (resource == "pods")
            {
                kubelet.Remove(name);
            }

            Bump(current);
            Notify(resource, "DELETED", current);
            return new JObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JObject(), ["status"] = "Success", ["details"] = new JObject { ["name"] = name, ["kind"] = resource, ["uid"] = current["metadata"]?["uid"] } };
        }
    }

    /// <summary>
    /// Makes the next write of that object lose a race: just before it is applied, another writer stores
    /// <paramref name="data"/> (a ConfigMap's data), so a write carrying the old resourceVersion gets a real 409.
    /// </summary>
    public void InterfereWithNextWrite(string ns, string name, JObject data)
    {
        lock (gate)
        {
            interference[Key(ns, name)] = data;
        }
    }

    // ---------------------------------------------------------------- logs, backend, metrics

    public string Logs(string ns, string podName, string? container, int? tailLines, int? sinceSeconds, bool timestamps)
    {
        SimulatedPod pod;
        lock (gate)
        {
            var json = Get("pods", ns, podName);
            pod = kubelet[podName];
            if (container is not null && container != pod.Container)
            {
                throw KubeError.BadRequest($"container {container} is not valid for pod {podName}");
            }

            if (!pod.Started)
            {
                throw KubeError.BadRequest($"container \"{pod.Container}\" in pod \"{podName}\" is waiting to start: ContainerCreating");
            }

            _ = json;
        }

        List<(DateTimeOffset Time, string Line)> lines;
        lock (pod.Log)
        {
            lines = pod.Log.ToList();
        }

        if (sinceSeconds is { } since)
        {
            var cutoff = DateTimeOffset.UtcNow.AddSeconds(-since);
            lines = lines.Where(l => l.Time >= cutoff).ToList();
        }

        if (tailLines is { } tail)
        {
            lines = lines.Skip(Math.Max(0, lines.Count - tail)).ToList();
        }

        return string.Concat(lines.Select(l => (timestamps ? KubeJson.NanoTime(l.Time) + " " : "") + l.Line + "\n"));
    }

    public void AppendLog(string ns, string? podName, string line)
    {
        lock (gate)
        {
            var now = DateTimeOffset.UtcNow;
            var targets = kubelet.Values.Where(p => p.Namespace == ns && p.Started && (podName is null || p.Name == podName)).ToArray();
            if (targets.Length == 0)
            {
                throw KubeError.NotFound("pods", podName ?? "(any running)");
            }

            foreach (var pod in targets)
            {
                pod.Write(now, line);
            }
        }
    }

    /// <summary>What one pod's /api/v1/feature-flags/status answers: the document it read at start, not the ConfigMap now.</summary>
    public JObject? PodFlagStatus(string ns, string podName)
    {
        lock (gate)
        {
            if (!kubelet.TryGetValue(podName, out var pod) || pod.Namespace != ns || !pod.Ready || pod.LoadedDocument is null)
            {
                return null;
            }

            return StatusOf(pod);
        }
    }

    /// <summary>The Service in front of a deployment: round robin over its ready pods; null when none is ready.</summary>
    public JObject? ServiceFlagStatus(string ns, string deployment)
    {
        lock (gate)
        {
            var ready = ReadyPodsOf(ns, deployment);
            return ready.Length == 0 ? null : StatusOf(ready[roundRobin++ % ready.Length]);
        }
    }

    public bool ServiceHealthy(string ns, string deployment)
    {
        lock (gate)
        {
            return ReadyPodsOf(ns, deployment).Length > 0;
        }
    }

    public JObject PodMetrics(string ns, string? name)
    {
        lock (gate)
        {
            var now = DateTimeOffset.UtcNow;
            var items = kubelet.Values
                .Where(p => p.Namespace == ns && p.Started && (name is null || p.Name == name))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => new JObject
                {
                    ["metadata"] = new JObject { ["name"] = p.Name, ["namespace"] = ns, ["creationTimestamp"] = KubeJson.Time(now), ["labels"] = Find("pods", ns, p.Name)?["metadata"]?["labels"]?.DeepClone() },
                    ["timestamp"] = KubeJson.Time(now),
                    ["window"] = "15.002s",
                    ["containers"] = new JArray(new JObject
                    {
                        ["name"] = p.Container,
                        ["usage"] = new JObject
                        {
                            ["cpu"] = $"{(p.Ready ? 40 + (Math.Abs(p.Name.GetHashCode(StringComparison.Ordinal)) % 60) : 3) * 1000000}n",
                            ["memory"] = $"{(p.Ready ? 180 + (Math.Abs(p.Name.GetHashCode(StringComparison.Ordinal)) % 40) : 12) * 1024}Ki",
                        },
                    }),
                })
                .ToArray();
            if (name is not null && items.Length == 0)
            {
                throw KubeError.NotFound("pods", name, "metrics.k8s.io");
            }

            return new JObject
            {
                ["kind"] = "PodMetricsList",
                ["apiVersion"] = "metrics.k8s.io/v1beta1",
                ["metadata"] = new JObject(),
                ["items"] = new JArray(items),
            };
        }
    }

    public JObject Snapshot(string ns, string deployment)
    {
        lock (gate)
        {
            var d = Find("deployments", ns, deployment);
            return new JObject
            {
                ["resourceVersion"] = resourceVersion,
                ["podReadySeconds"] = PodReadySeconds,
                ["crashLoop"] = CrashLoop,
                ["crashReason"] = CrashReason,
                ["metrics"] = Metrics,
                ["configuredRolloutSeconds"] = ((int?)d?["spec"]?["replicas"] ?? 0) * PodReadySeconds,
                ["pods"] = new JArray(kubelet.Values.Where(p => p.Namespace == ns).OrderBy(p => p.CreatedAt).Select(p => new JObject
                {
                    ["name"] = p.Name,
                    ["replicaSet"] = p.ReplicaSet,
                    ["ready"] = p.Ready,
                    ["startedAt"] = p.StartedAt is { } s ? KubeJson.NanoTime(s) : null,
                    ["restartCount"] = p.RestartCount,
                    ["loadedResourceVersion"] = p.LoadedResourceVersion,
                })),
            };
        }
    }

    public void SetProgressDeadline(string ns, string deployment, int seconds)
    {
        lock (gate)
        {
            var d = Find("deployments", ns, deployment) ?? throw KubeError.NotFound("deployments", deployment, "apps");
            d["spec"]!["progressDeadlineSeconds"] = seconds;
        }
    }

    // ---------------------------------------------------------------- watch

    public Watcher Watch(string resource, string ns, string? fieldSelector, string? labelSelector, long? sinceVersion)
    {
        lock (gate)
        {
            var watcher = new Watcher(resource, ns, fieldSelector, labelSelector);
            watchers.Add(watcher);
            if (sinceVersion is { } since)
            {
                foreach (var o in objects[resource].Values.Where(watcher.Matches))
                {
                    if (long.Parse((string)o["metadata"]!["resourceVersion"]!, CultureInfo.InvariantCulture) > since)
                    {
                        watcher.Post("MODIFIED", o);
                    }
                }
            }

            return watcher;
        }
    }

    public void Unwatch(Watcher watcher)
    {
        lock (gate)
        {
            watchers.Remove(watcher);
            watcher.Complete();
        }
    }

    // ---------------------------------------------------------------- controller

    public void Tick(DateTimeOffset now)
    {
        lock (gate)
        {
            Reconcile(now);
        }
    }

    private void Reconcile(DateTimeOffset now)
    {
        foreach (var pod in kubelet.Values.ToArray())
        {
            RunKubelet(pod, now);
        }

        foreach (var deployment in objects["deployments"].Values.ToArray())
        {
            ReconcileDeployment(deployment, now);
        }
    }

    private void ReconcileDeployment(JObject deployment, DateTimeOffset now)
    {
        var ns = (string)deployment["metadata"]!["namespace"]!;
        var name = (string)deployment["metadata"]!["name"]!;
        var key = Key(ns, name);
        var replicas = (int?)deployment["spec"]?["replicas"] ?? 1;
        var owned = OwnedReplicaSets(deployment);
        var template = KubeJson.Canonical(deployment["spec"]!["template"]);
        var newRs = owned.FirstOrDefault(rs => KubeJson.Canonical(rs["spec"]!["template"]) == template);
        var maxRevision = owned.Select(Revision).DefaultIfEmpty(0).Max();
        var changed = false;
        if (newRs is null)
        {
            newRs = CreateReplicaSet(deployment, maxRevision + 1, now);
            owned.Add(newRs);
            lastProgress[key] = now;
            changed = true;
        }
        else if (Revision(newRs) < maxRevision)
        {
            // Rolling back to an older template makes its ReplicaSet the newest revision, as the controller does.
            ((JObject)newRs["metadata"]!["annotations"]!)[RevisionAnnotation] = (maxRevision + 1).ToString(CultureInfo.InvariantCulture);
            Bump(newRs);
            lastProgress[key] = now;
            changed = true;
        }

        var newName = (string)newRs["metadata"]!["name"]!;
        var pods = PodsOf(owned);
        var newPods = pods.Where(p => p.ReplicaSet == newName).ToList();
        var oldPods = pods.Where(p => p.ReplicaSet != newName).ToList();

        // maxSurge 1, maxUnavailable 0: one new pod at a time; an old pod goes only once a new one is ready.
        var newReady = newPods.Count(p => p.Ready);
        var availableOld = oldPods.Count(p => p.Ready);
        if (newPods.Count < replicas && newPods.All(p => p.Ready) && newPods.Count + oldPods.Count < replicas + 1)
        {
            newPods.Add(CreatePod(newRs, now));
            lastProgress[key] = now;
            changed = true;
        }
        else if (oldPods.Count > 0 && newReady + availableOld > replicas)
        {
            var victim = oldPods.OrderBy(p => p.Ready).ThenBy(p => p.CreatedAt).First();
            RemovePod(victim);
            oldPods.Remove(victim);
            lastProgress[key] = now;
            changed = true;
        }
        else if (oldPods.Count > 0 && oldPods.Any(p => !p.Ready) && newReady + availableOld >= replicas)
        {
            var victim = oldPods.First(p => !p.Ready);
            RemovePod(victim);
            oldPods.Remove(victim);
            changed = true;
        }
        else if (newPods.Count > replicas)
        {
            var victim = newPods.OrderBy(p => p.Ready).ThenByDescending(p => p.CreatedAt).First();
            RemovePod(victim);
            newPods.Remove(victim);
            changed = true;
        }

        foreach (var rs in owned)
        {
            var rsName = (string)rs["metadata"]!["name"]!;
            var count = pods.Count(p => p.ReplicaSet == rsName && kubelet.ContainsKey(p.Name));
            var ready = pods.Count(p => p.ReplicaSet == rsName && kubelet.ContainsKey(p.Name) && p.Ready);
            var status = new JObject { ["replicas"] = count, ["fullyLabeledReplicas"] = count, ["readyReplicas"] = ready, ["availableReplicas"] = ready, ["observedGeneration"] = rs["metadata"]!["generation"] };
            var target = rsName == newName ? replicas : count;
            if (!JToken.DeepEquals(rs["status"], status) || (int?)rs["spec"]!["replicas"] != target)
            {
                rs["status"] = status;
                rs["spec"]!["replicas"] = target;
                Bump(rs);
                Notify("replicasets", "MODIFIED", rs);
            }
        }

        var all = newPods.Concat(oldPods).Where(p => kubelet.ContainsKey(p.Name)).ToList();
        var available = all.Count(p => p.Ready);
        var updated = newPods.Count(p => kubelet.ContainsKey(p.Name));
        var complete = updated == replicas && all.Count == replicas && newPods.Count(p => p.Ready) == replicas;
        if (!lastProgress.TryGetValue(key, out var progressAt))
        {
            progressAt = now;
            lastProgress[key] = now;
        }

        var deadline = (int?)deployment["spec"]?["progressDeadlineSeconds"] ?? 600;
        var oldConditions = deployment["status"]?["conditions"] as JArray;
        string? Previous(string type, string field) => (string?)oldConditions?.OfType<JObject>().FirstOrDefault(c => (string?)c["type"] == type)?[field];
        var (progressStatus, progressReason, progressMessage) = complete
            ? ("True", "NewReplicaSetAvailable", $"ReplicaSet \"{newName}\" has successfully progressed.")
            : (now - progressAt).TotalSeconds > deadline || Previous("Progressing", "reason") == "ProgressDeadlineExceeded"
                ? ("False", "ProgressDeadlineExceeded", $"ReplicaSet \"{newName}\" has timed out progressing.")
                : ("True", "ReplicaSetUpdated", $"ReplicaSet \"{newName}\" is progressing.");
        if (changed && progressReason == "ProgressDeadlineExceeded" && !complete)
        {
            // A new template restarts the clock, as the controller does on a new rollout.
            (progressStatus, progressReason, progressMessage) = ("True", "ReplicaSetUpdated", $"ReplicaSet \"{newName}\" is progressing.");
        }

        var availableStatus = available >= replicas ? "True" : "False";
        JObject Condition(string type, string status, string reason, string message)
        {
            var same = Previous(type, "status") == status && Previous(type, "reason") == reason;
            return new JObject
            {
                ["type"] = type,
                ["status"] = status,
                ["lastUpdateTime"] = same && !(type == "Progressing" && changed) ? Previous(type, "lastUpdateTime") : KubeJson.Time(now),
                ["lastTransitionTime"] = same ? Previous(type, "lastTransitionTime") : KubeJson.Time(now),
                ["reason"] = reason,
                ["message"] = message,
            };
        }

        var newStatus = new JObject
        {
            ["observedGeneration"] = deployment["metadata"]!["generation"],
            ["replicas"] = all.Count,
            ["updatedReplicas"] = updated,
            ["readyReplicas"] = available,
            ["availableReplicas"] = available,
            ["unavailableReplicas"] = Math.Max(0, all.Count - available),
            ["conditions"] = new JArray(
                Condition("Available", availableStatus, availableStatus == "True" ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable", availableStatus == "True" ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                Condition("Progressing", progressStatus, progressReason, progressMessage)),
        };
        if (available == 0)
        {
            newStatus.Remove("readyReplicas");
            newStatus.Remove("availableReplicas");
        }

        var annotations = (JObject)(deployment["metadata"]!["annotations"] ??= new JObject());
        var revisionText = Revision(newRs).ToString(CultureInfo.InvariantCulture);
        if (!JToken.DeepEquals(deployment["status"], newStatus) || (string?)annotations[RevisionAnnotation] != revisionText)
        {
            deployment["status"] = newStatus;
            annotations[RevisionAnnotation] = revisionText;
            Bump(deployment);
            Notify("deployments", "MODIFIED", deployment);
        }
    }

    private void RunKubelet(SimulatedPod pod, DateTimeOffset now)
    {
        var json = Find("pods", pod.Namespace, pod.Name);
        if (json is null)
        {
            return;
        }

        var changed = false;
        if (!pod.Started && now >= pod.StartsAt)
        {
            StartContainer(pod, now);
            changed = true;
        }
        else if (pod.Started && pod.CrashLoop && (now - (pod.LastRestartAt ?? pod.StartedAt!.Value)).TotalSeconds >= Math.Max(0.2, PodReadySeconds) && pod.RestartCount < 50)
        {
            pod.RestartCount++;
            pod.LastRestartAt = now;
            pod.Write(now, "{\"level\":\"ERROR\",\"event\":\"startup_failed\",\"message\":\"could not start: " + (pod.CrashReason == "OOMKilled" ? "out of memory" : "database connection refused") + "\"}");
            AddEvent(pod, now, "Warning", "BackOff", $"Back-off restarting failed container {pod.Container} in pod {pod.Name}_{pod.Namespace}({json["metadata"]!["uid"]})");
            changed = true;
        }

        if (changed)
        {
            json["status"] = PodStatus(pod, json, now);
            Bump(json);
            Notify("pods", "MODIFIED", json);
        }
    }

    private void StartContainer(SimulatedPod pod, DateTimeOffset now)
    {
        var json = Find("pods", pod.Namespace, pod.Name)!;
        pod.Started = true;
        pod.StartedAt = now;
        AddEvent(pod, now, "Normal", "Started", $"Started container {pod.Container}");
        pod.Write(now, "INFO:     Started server process [1]");
        pod.Write(now, JsonLine(now, "INFO", "startup", $"pms-backend starting on {pod.Name}"));
        if (pod.CrashLoop)
        {
            pod.LastRestartAt = now;
            pod.Write(now, JsonLine(now, "ERROR", "startup_failed", "could not start: " + (pod.CrashReason == "OOMKilled" ? "out of memory" : "database connection refused")));
            AddEvent(pod, now, "Warning", "BackOff", $"Back-off restarting failed container {pod.Container} in pod {pod.Name}_{pod.Namespace}({json["metadata"]!["uid"]})");
        }
        else
        {
            var cm = Find("configmaps", pod.Namespace, Options.ConfigMapName);
            pod.LoadedDocument = (string?)cm?["data"]?[Options.ConfigMapKey] ?? "{}";
            pod.LoadedResourceVersion = (string?)cm?["metadata"]?["resourceVersion"];
            pod.Ready = true;
            pod.Write(now, JsonLine(now, "INFO", "feature_flags_loaded", $"loaded feature flags (configmap resourceVersion {pod.LoadedResourceVersion})"));
            pod.Write(now, "INFO:     Application startup complete.");
        }

        json["status"] = PodStatus(pod, json, now);
        Bump(json);
        Notify("pods", "MODIFIED", json);
    }

    private static string JsonLine(DateTimeOffset now, string level, string evt, string message)
        => new JObject { ["timestamp"] = KubeJson.NanoTime(now), ["level"] = level, ["event"] = evt, ["message"] = message }.ToString(Formatting.None);

    private JObject CreateReplicaSet(JObject deployment, int revision, DateTimeOffset now)
    {
        var template = (JObject)deployment["spec"]!["template"]!.DeepClone();
        var hash = Hash(KubeJson.Canonical(template));
        var metadata = (JObject)(template["metadata"] ??= new JObject());
        var labels = (JObject)(metadata["labels"] ??= new JObject());
        labels["pod-template-hash"] = hash;
        var ns = (string)deployment["metadata"]!["namespace"]!;
        var name = $"{deployment["metadata"]!["name"]}-{hash}";
        var rsLabels = (JObject)labels.DeepClone();
        var selector = (JObject)deployment["spec"]!["selector"]!.DeepClone();
        ((JObject)(selector["matchLabels"] ??= new JObject()))["pod-template-hash"] = hash;
        var rs = new JObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["generation"] = 1,
                ["creationTimestamp"] = KubeJson.Time(now),
                ["labels"] = rsLabels,
                ["annotations"] = new JObject
                {
                    [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture),
                    ["deployment.kubernetes.io/desired-replicas"] = deployment["spec"]!["replicas"]!.ToString(),
                    ["deployment.kubernetes.io/max-replicas"] = ((int)deployment["spec"]!["replicas"]! + 1).ToString(CultureInfo.InvariantCulture),
                },
                ["ownerReferences"] = new JArray(new JObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "Deployment",
                    ["name"] = deployment["metadata"]!["name"],
                    ["uid"] = deployment["metadata"]!["uid"],
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = new JObject { ["replicas"] = 0, ["selector"] = selector, ["template"] = template },
            ["status"] = new JObject { ["replicas"] = 0 },
        };
        Store("replicasets", ns, rs);
        Notify("replicasets", "ADDED", rs);
        return rs;
    }

    private SimulatedPod CreatePod(JObject rs, DateTimeOffset now)
    {
        var ns = (string)rs["metadata"]!["namespace"]!;
        var rsName = (string)rs["metadata"]!["name"]!;
        var name = $"{rsName}-{Suffix(5)}";
        var template = rs["spec"]!["template"]!;
        var spec = (JObject)template["spec"]!.DeepClone();
        var node = $"node-{1 + (kubelet.Count % 2)}";
        spec["nodeName"] = node;
        spec["restartPolicy"] ??= "Always";
        var container = (string?)spec["containers"]?[0]?["name"] ?? "app";
        var pod = new SimulatedPod
        {
            Name = name,
            Namespace = ns,
            ReplicaSet = rsName,
            Container = container,
            Node = node,
            CreatedAt = now,
            StartsAt = now.AddSeconds(PodReadySeconds),
            CrashLoop = CrashLoop,
            CrashReason = CrashReason,
        };
        var json = new JObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JObject
            {
                ["name"] = name,
                ["generateName"] = rsName + "-",
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["creationTimestamp"] = KubeJson.Time(now),
                ["labels"] = template["metadata"]?["labels"]?.DeepClone() ?? new JObject(),
                ["annotations"] = template["metadata"]?["annotations"]?.DeepClone() ?? new JObject(),
                ["ownerReferences"] = new JArray(new JObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "ReplicaSet",
                    ["name"] = rsName,
                    ["uid"] = rs["metadata"]!["uid"],
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = spec,
        };
        Store("pods", ns, json);
        kubelet[name] = pod;
        json["status"] = PodStatus(pod, json, now);
        AddEvent(pod, now, "Normal", "Scheduled", $"Successfully assigned {ns}/{name} to {node}");
        AddEvent(pod, now, "Normal", "Pulled", $"Container image \"{spec["containers"]?[0]?["image"]}\" already present on machine");
        AddEvent(pod, now, "Normal", "Created", $"Created container {container}");
        Notify("pods", "ADDED", json);
        return pod;
    }

    private JObject PodStatus(SimulatedPod pod, JObject json, DateTimeOffset now)
    {
        var image = (string?)json["spec"]?["containers"]?[0]?["image"];
        JObject state;
        JObject? lastState = null;
        if (!pod.Started)
        {
            state = new JObject { ["waiting"] = new JObject { ["reason"] = "ContainerCreating" } };
        }
        else if (pod.CrashLoop)
        {
            state = new JObject { ["waiting"] = new JObject { ["reason"] = "CrashLoopBackOff", ["message"] = $"back-off 10s restarting failed container={pod.Container} pod={pod.Name}_{pod.Namespace}({json["metadata"]!["uid"]})" } };
            lastState = new JObject { ["terminated"] = new JObject { ["exitCode"] = pod.CrashReason == "OOMKilled" ? 137 : 1, ["reason"] = pod.CrashReason, ["startedAt"] = KubeJson.Time(pod.LastRestartAt ?? now), ["finishedAt"] = KubeJson.Time(pod.LastRestartAt ?? now), ["containerID"] = "containerd://" + Hash(pod.Name + pod.RestartCount) } };
        }
        else
        {
            state = new JObject { ["running"] = new JObject { ["startedAt"] = KubeJson.Time(pod.StartedAt!.Value) } };
        }

        var ready = pod.Ready ? "True" : "False";
        var status = new JObject
        {
            ["phase"] = pod.Started ? "Running" : "Pending",
            ["conditions"] = new JArray(
                new JObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastTransitionTime"] = KubeJson.Time(pod.CreatedAt) },
                new JObject { ["type"] = "Initialized", ["status"] = "True", ["lastTransitionTime"] = KubeJson.Time(pod.CreatedAt) },
                new JObject { ["type"] = "ContainersReady", ["status"] = ready, ["lastTransitionTime"] = KubeJson.Time(pod.StartedAt ?? pod.CreatedAt) },
                new JObject { ["type"] = "Ready", ["status"] = ready, ["lastTransitionTime"] = KubeJson.Time(pod.StartedAt ?? pod.CreatedAt) }),
            ["hostIP"] = pod.Node == "node-1" ? "10.0.0.11" : "10.0.0.12",
            ["podIP"] = $"10.244.{(pod.Node == "node-1" ? 1 : 2)}.{2 + (Math.Abs(pod.Name.GetHashCode(StringComparison.Ordinal)) % 250)}",
            ["startTime"] = KubeJson.Time(pod.CreatedAt),
            ["containerStatuses"] = new JArray(new JObject
            {
                ["name"] = pod.Container,
                ["state"] = state,
                ["lastState"] = lastState ?? new JObject(),
                ["ready"] = pod.Ready,
                ["restartCount"] = pod.RestartCount,
                ["image"] = image,
                ["imageID"] = image + "@sha256:" + Hash(image ?? "") + Hash(image + "x"),
                ["containerID"] = pod.Started ? "containerd://" + Hash(pod.Name) : null,
                ["started"] = pod.Started && !pod.CrashLoop,
            }),
            ["qosClass"] = "BestEffort",
        };
        return status;
    }

    private void RemovePod(SimulatedPod pod)
    {
        var json = Find("pods", pod.Namespace, pod.Name);
        kubelet.Remove(pod.Name);
        if (json is not null)
        {
            objects["pods"].Remove(Key(pod.Namespace, pod.Name));
            Bump(json);
            AddEvent(pod, DateTimeOffset.UtcNow, "Normal", "Killing", $"Stopping container {pod.Container}");
            Notify("pods", "DELETED", json);
        }
    }

    private void AddEvent(SimulatedPod pod, DateTimeOffset now, string type, string reason, string message)
    {
        var podJson = Find("pods", pod.Namespace, pod.Name);
        var existing = objects["events"].Values.FirstOrDefault(e => (string?)e["involvedObject"]?["name"] == pod.Name && (string?)e["reason"] == reason && (string?)e["message"] == message);
        if (existing is not null)
        {
            existing["count"] = ((int?)existing["count"] ?? 1) + 1;
            existing["lastTimestamp"] = KubeJson.Time(now);
            Bump(existing);
            return;
        }

        var name = $"{pod.Name}.{Convert.ToHexString(BitConverter.GetBytes(now.UtcTicks + objects["events"].Count)).ToLowerInvariant()}";
        var e = new JObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JObject { ["name"] = name, ["namespace"] = pod.Namespace, ["uid"] = Guid.NewGuid().ToString(), ["creationTimestamp"] = KubeJson.Time(now) },
            ["involvedObject"] = new JObject { ["kind"] = "Pod", ["namespace"] = pod.Namespace, ["name"] = pod.Name, ["uid"] = podJson?["metadata"]?["uid"], ["apiVersion"] = "v1", ["fieldPath"] = $"spec.containers{{{pod.Container}}}" },
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = new JObject { ["component"] = reason == "Scheduled" ? "default-scheduler" : "kubelet", ["host"] = pod.Node },
            ["firstTimestamp"] = KubeJson.Time(now),
            ["lastTimestamp"] = KubeJson.Time(now),
            ["count"] = 1,
            ["type"] = type,
            ["reportingComponent"] = reason == "Scheduled" ? "default-scheduler" : "kubelet",
            ["reportingInstance"] = pod.Node,
        };
        Store("events", pod.Namespace, e);
    }

    private List<JObject> OwnedReplicaSets(JObject deployment)
    {
        var uid = (string?)deployment["metadata"]!["uid"];
        return objects["replicasets"].Values
            .Where(rs => rs["metadata"]?["ownerReferences"] is JArray refs && refs.Any(r => (string?)r["uid"] == uid && (bool?)r["controller"] == true))
            .ToList();
    }

    private List<SimulatedPod> PodsOf(IEnumerable<JObject> replicaSets)
    {
        var names = replicaSets.Select(rs => (string)rs["metadata"]!["name"]!).ToHashSet(StringComparer.Ordinal);
        return kubelet.Values.Where(p => names.Contains(p.ReplicaSet)).OrderBy(p => p.CreatedAt).ToList();
    }

    private SimulatedPod[] ReadyPodsOf(string ns, string deployment)
    {
        var d = Find("deployments", ns, deployment);
        return d is null ? Array.Empty<SimulatedPod>() : PodsOf(OwnedReplicaSets(d)).Where(p => p.Ready && p.LoadedDocument is not null).ToArray();
    }

    private JObject StatusOf(SimulatedPod pod)
    {
        JToken flags;
        try
        {
            flags = JObject.Parse(pod.LoadedDocument!)[Options.Environment] ?? new JObject();
        }
        catch (JsonException)
        {
            flags = new JObject();
        }

        return new JObject { ["environment"] = Options.Environment, ["flags"] = flags, ["pod"] = pod.Name, ["loaded_at"] = KubeJson.NanoTime(pod.StartedAt!.Value) };
    }

    private static int Revision(JObject rs) => int.TryParse((string?)rs["metadata"]?["annotations"]?[RevisionAnnotation], NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 0;

    private JObject Write(string resource, string ns, string name, JObject current, JObject body, string manager)
    {
        var kind = KindOf(resource);
        if ((string?)body["kind"] is { } bodyKind && bodyKind != kind)
        {
            throw KubeError.BadRequest($"the kind of the object ({bodyKind}) does not match the kind on the URL ({kind})");
        }

        var bodyName = (string?)body["metadata"]?["name"];
        if (bodyName is not null && bodyName != name)
        {
            throw KubeError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        var bodyNamespace = (string?)body["metadata"]?["namespace"];
        if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != ns)
        {
            throw KubeError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var presented = (string?)body["metadata"]?["resourceVersion"];
        var stored = (string?)current["metadata"]!["resourceVersion"];
        if (!string.IsNullOrEmpty(presented) && presented != stored)
        {
            throw KubeError.Conflict(resource, name, GroupOf(resource));
        }

        if (string.IsNullOrEmpty(presented) && resource != "configmaps")
        {
            throw KubeError.Invalid(kind, name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
        }

        var next = (JObject)body.DeepClone();
        next["apiVersion"] = current["apiVersion"];
        next["kind"] = kind;
        var metadata = (JObject)(next["metadata"] ??= new JObject());
        foreach (var systemField in new[] { "name", "namespace", "uid", "creationTimestamp", "generation", "ownerReferences" })
        {
            if (current["metadata"]![systemField] is { } value)
            {
                metadata[systemField] = value.DeepClone();
            }
        }

        metadata["resourceVersion"] = stored;
        metadata["managedFields"] = current["metadata"]!["managedFields"]?.DeepClone();
        if (metadata["managedFields"] is null)
        {
            metadata.Remove("managedFields");
        }

        switch (resource)
        {
            case "configmaps":
                ValidateConfigMap(next, name);
                break;
            case "deployments":
                next["status"] = current["status"]!.DeepClone();
                if ((int?)next["spec"]?["replicas"] is null or < 0)
                {
                    throw KubeError.Invalid(kind, name, "spec.replicas: Invalid value: must be greater than or equal to 0");
                }

                if (!KubeJson.MatchesLabels(next["spec"]?["template"]?["metadata"]?["labels"] as JObject, string.Join(",", (next["spec"]?["selector"]?["matchLabels"] as JObject ?? new JObject()).Properties().Select(p => $"{p.Name}={p.Value}"))))
                {
                    throw KubeError.Invalid(kind, name, "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`");
                }

                if (next["spec"]?["template"] is JObject template)
                {
                    DefaultTemplate(template);
                }

                if (!JToken.DeepEquals(next["spec"], current["spec"]))
                {
                    metadata["generation"] = ((long?)current["metadata"]!["generation"] ?? 1) + 1;
                }

                break;
            default:
                throw new KubeError(405, "MethodNotAllowed", $"the stand-in does not update {resource}");
        }

        if (JToken.DeepEquals(next, current))
        {
            return (JObject)current.DeepClone();
        }

        Manage(next, manager, DateTimeOffset.UtcNow);
        Store(resource, ns, next);
        Notify(resource, "MODIFIED", next);
        if (resource == "deployments")
        {
            Reconcile(DateTimeOffset.UtcNow);
            return (JObject)Find(resource, ns, name)!.DeepClone();
        }

        return (JObject)next.DeepClone();
    }

    /// <summary>
    /// The API server's defaulting of a pod template, so what clients read back (and kubectl's undo re-sends) has the
    /// same shape as on a real cluster: <c>creationTimestamp: null</c>, <c>resources: {}</c>, the termination and pull
    /// policies.
    /// </summary>
    private static void DefaultTemplate(JObject template)
    {
        var metadata = (JObject)(template["metadata"] ??= new JObject());
        if (metadata["creationTimestamp"] is null)
        {
            metadata["creationTimestamp"] = null;
        }

        var spec = (JObject)(template["spec"] ??= new JObject());
        foreach (var container in (spec["containers"] as JArray ?? new JArray()).OfType<JObject>())
        {
            container["resources"] ??= new JObject();
            container["terminationMessagePath"] ??= "/dev/termination-log";
            container["terminationMessagePolicy"] ??= "File";
            container["imagePullPolicy"] ??= "IfNotPresent";
        }

        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JObject();
        spec["schedulerName"] ??= "default-scheduler";
    }

    /// <summary>
    /// Server-side field management as far as clients read it: one entry per manager with the time of its last change
    /// (whole seconds, as the API server writes it). Tools read the newest entry as "when did this object last change".
    /// </summary>
    private static void Manage(JObject o, string manager, DateTimeOffset now)
    {
        var metadata = (JObject)o["metadata"]!;
        var entries = metadata["managedFields"] as JArray ?? new JArray();
        var entry = entries.OfType<JObject>().FirstOrDefault(e => (string?)e["manager"] == manager && (string?)e["operation"] == "Update");
        if (entry is null)
        {
            entry = new JObject { ["manager"] = manager, ["operation"] = "Update", ["apiVersion"] = o["apiVersion"], ["fieldsType"] = "FieldsV1", ["fieldsV1"] = new JObject() };
            entries.Add(entry);
        }

        entry["time"] = KubeJson.Time(now);
        metadata["managedFields"] = entries;
    }

    private void Interfere(string resource, string ns, string name)
    {
        if (resource == "configmaps" && interference.Remove(Key(ns, name), out var data) && Find(resource, ns, name) is { } current)
        {
            current["data"] = data;
            Bump(current);
            Notify(resource, "MODIFIED", current);
        }
    }

    private static void ValidateConfigMap(JObject configMap, string name)
    {
        foreach (var section in new[] { "data", "binaryData" })
        {
            if (configMap[section] is null || configMap[section]!.Type == JTokenType.Null)
            {
                continue;
            }

            if (configMap[section] is not JObject map)
            {
                throw KubeError.BadRequest($"ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {configMap[section]!.Type.ToString().ToLowerInvariant()} into Go struct field ConfigMap.{section} of type map[string]string");
            }

            foreach (var p in map.Properties())
            {
                if (p.Value.Type != JTokenType.String)
                {
                    throw KubeError.BadRequest($"ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {p.Value.Type.ToString().ToLowerInvariant()} into Go struct field ConfigMap.{section} of type string");
                }

                if (!ConfigMapKey().IsMatch(p.Name) || p.Name.Length > 253)
                {
                    throw KubeError.Invalid("ConfigMap", name, $"{section}[{p.Name}]: Invalid value: \"{p.Name}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
                }
            }
        }

        var size = ((configMap["data"] as JObject)?.Properties().Sum(p => p.Name.Length + ((string?)p.Value ?? "").Length) ?? 0);
        if (size > 1048576)
        {
            throw KubeError.Invalid("ConfigMap", name, "[]: Too long: must have at most 1048576 bytes");
        }
    }

    private void RequireNamespace(string resource, string ns, string name)
    {
        if (resource != "namespaces" && Find("namespaces", "", ns) is null)
        {
            // The API server answers a read in a missing namespace with the object's own 404.
            throw KubeError.NotFound(resource, name, GroupOf(resource));
        }
    }

    private JObject? Find(string resource, string ns, string name)
        => objects[resource].TryGetValue(Key(resource == "namespaces" ? "" : ns, name), out var o) ? o : null;

    private void Store(string resource, string ns, JObject o)
    {
        Bump(o);
        objects[resource][Key(ns, (string)o["metadata"]!["name"]!)] = o;
    }

    private void Bump(JObject o) => o["metadata"]!["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);

    private void Notify(string resource, string type, JObject o)
    {
        foreach (var watcher in watchers.Where(w => w.Resource == resource && w.Matches(o)))
        {
            watcher.Post(type, o);
        }
    }

    private static string Key(string ns, string name) => ns + "/" + name;

    public static string KindOf(string resource) => resource switch
    {
        "configmaps" => "ConfigMap",
        "pods" => "Pod",
        "events" => "Event",
        "namespaces" => "Namespace",
        "deployments" => "Deployment",
        "replicasets" => "ReplicaSet",
        _ => throw KubeError.NotFound(resource, ""),
    };

    private static string ApiVersionOf(string resource) => Apps.Contains(resource) ? "apps/v1" : "v1";

    private static string Hash(string text)
    {
        uint h = 2166136261;
        foreach (var c in text)
        {
            h = (h ^ c) * 16777619;
        }

        var chars = new char[10];
        var v = (ulong)h * 2654435761UL;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[(int)(v % (ulong)Alphabet.Length)];
            v = (v / (ulong)Alphabet.Length) ^ (h * (ulong)(i + 7));
        }

        return new string(chars);
    }

    private string Suffix(int length) => new(Enumerable.Range(0, length).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray());

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigMapKey();

    /// <summary>One open watch: matching changes are queued as <c>{"type","object"}</c> lines.</summary>
    public sealed class Watcher
    {
        private readonly Channel<string> channel = Channel.CreateUnbounded<string>();
        private readonly string ns;
        private readonly string? fieldSelector;
        private readonly string? labelSelector;

        public Watcher(string resource, string ns, string? fieldSelector, string? labelSelector)
        {
            Resource = resource;
            this.ns = ns;
            this.fieldSelector = fieldSelector;
            this.labelSelector = labelSelector;
        }

        public string Resource { get; }

        public ChannelReader<string> Events => channel.Reader;

        public bool Matches(JObject o)
            => (string?)o["metadata"]?["namespace"] == ns
               && KubeJson.MatchesFields(o, fieldSelector)
               && KubeJson.MatchesLabels(o["metadata"]?["labels"] as JObject, labelSelector);

        public void Post(string type, JObject o)
            => channel.Writer.TryWrite(new JObject { ["type"] = type, ["object"] = o.DeepClone() }.ToString(Formatting.None));

        public void Complete() => channel.Writer.TryComplete();
    }
}
