using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// The playbook's deployment chores against one deployment: health (kubectl get/describe/top), restart and wait
/// (rollout restart + rollout status), undo (rollout undo), logs across pods. Public members use only PMS.Flags types,
/// so a caller never needs KubernetesClient to compile or load.
/// </summary>
public sealed class DeploymentOperations : IDisposable
{
    /// <summary>The annotation <c>kubectl rollout restart</c> sets on the pod template.</summary>
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    /// <summary>The annotation the ConfigMap store stamps on every change (ISO 8601, UTC, milliseconds).</summary>
    public const string ChangedAtAnnotation = "pms-flags.io/changed-at";

    private readonly KubernetesGateway gateway;
    private readonly TimeProvider time;

    private DeploymentOperations(KubernetesGateway gateway, TimeProvider time)
    {
        this.gateway = gateway;
        this.time = time;
    }

    public KubernetesTarget Target => gateway.Target;

    /// <summary>How often a wait re-reads the deployment; small, so the wait adds next to nothing to the rollout.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public static DeploymentOperations Connect(KubernetesTarget target, TimeProvider? time = null)
        => new(KubernetesGateway.Connect(target), time ?? TimeProvider.System);

    public async Task<DeploymentSnapshot> ReadAsync(CancellationToken cancellationToken)
        => KubernetesGateway.Snapshot(await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>What <c>kubectl rollout restart</c> does: a strategic merge patch of the restartedAt template annotation.</summary>
    public async Task<DateTimeOffset> RestartAsync(CancellationToken cancellationToken)
    {
        // Read first, so a missing deployment or namespace is named precisely and nothing is patched.
        await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var patch = new JObject
        {
            ["spec"] = new JObject { ["template"] = new JObject { ["metadata"] = new JObject { ["annotations"] = new JObject { [RestartedAtAnnotation] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) } } } },
        };
        await gateway.CallAsync(
            $"restart deployment {Target.Namespace}/{Target.Deployment}",
            (c, ct) => c.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch.ToString(Formatting.None), V1Patch.PatchType.StrategicMergePatch), Target.Deployment, Target.Namespace, fieldManager: "pms-flags", cancellationToken: ct),
            () => gateway.MissingAsync(KubernetesErrorIds.DeploymentNotFound, $"Deployment '{Target.Deployment}' does not exist in namespace '{Target.Namespace}'.", Target.Deployment, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return now;
    }

    /// <summary>
    /// Waits like <c>kubectl rollout status</c> until done, ProgressDeadlineExceeded or the timeout; reports each change
    /// of progress. Never throws for the two failures: the caller decides (and records) what they mean.
    /// </summary>
    public async Task<(RolloutProgress Progress, DeploymentRolloutOutcome Outcome, DateTimeOffset At)> WaitAsync(TimeSpan timeout, Action<RolloutProgress>? progress, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        string? lastMessage = null;
        while (true)
        {
            var reading = RolloutStatusEvaluator.Evaluate(await ReadAsync(cancellationToken).ConfigureAwait(false), Target.Deployment);
            var at = time.GetUtcNow();
            if (reading.Message != lastMessage)
            {
                progress?.Invoke(reading);
                lastMessage = reading.Message;
            }

            if (reading.Done)
            {
                return (reading, DeploymentRolloutOutcome.Complete, at);
            }

            if (reading.Failed)
            {
                return (reading, DeploymentRolloutOutcome.ProgressDeadlineExceeded, at);
            }

            if (time.GetElapsedTime(started) >= timeout)
            {
                return (reading, DeploymentRolloutOutcome.TimedOut, at);
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Revisions of the ReplicaSets this deployment controls (by selector and controller owner uid, as kubectl does).</summary>
    public async Task<IReadOnlyList<ReplicaSetRevision>> RevisionsAsync(CancellationToken cancellationToken)
        => (await OwnedReplicaSetsAsync(await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
            .Select(rs => new ReplicaSetRevision(rs.Metadata.Name, RevisionOf(rs), rs.Metadata.CreationTimestamp is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) : null))
            .OrderBy(r => r.Revision)
            .ToArray();

    /// <summary>
    /// <c>kubectl rollout undo</c>: the ReplicaSet of the chosen revision supplies the template (without its
    /// pod-template-hash label), written with a JSON Patch. With <paramref name="dryRun"/> only the choice is made.
    /// </summary>
    public async Task<DeploymentRolloutResult> UndoAsync(long toRevision, bool dryRun, CancellationToken cancellationToken)
    {
        var deployment = await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var owned = await OwnedReplicaSetsAsync(deployment, cancellationToken).ConfigureAwait(false);
        var revisions = owned.Select(rs => new ReplicaSetRevision(rs.Metadata.Name, RevisionOf(rs), null)).ToArray();
        var chosen = RevisionSelector.Select(revisions, toRevision, Target.Deployment);
        var current = revisions.Length == 0 ? 0 : revisions.Max(r => r.Revision);
        var source = owned.First(rs => rs.Metadata.Name == chosen.Name);
        var requestedAt = time.GetUtcNow();
        if (!dryRun)
        {
            var template = JObject.Parse(KubernetesJson.Serialize(source.Spec.Template));
            (template["metadata"]?["labels"] as JObject)?.Remove("pod-template-hash");
            var patch = new JArray(new JObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template });
            await gateway.CallAsync(
                $"undo deployment {Target.Namespace}/{Target.Deployment}",
                (c, ct) => c.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch.ToString(Formatting.None), V1Patch.PatchType.JsonPatch), Target.Deployment, Target.Namespace, fieldManager: "pms-flags", cancellationToken: ct),
                () => gateway.MissingAsync(KubernetesErrorIds.DeploymentNotFound, $"Deployment '{Target.Deployment}' does not exist in namespace '{Target.Namespace}'.", Target.Deployment, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }

        return new DeploymentRolloutResult
        {
            Namespace = Target.Namespace,
            Deployment = Target.Deployment,
            Action = "undo",
            RequestedAt = requestedAt,
            Outcome = DeploymentRolloutOutcome.NotWaited,
            FromRevision = current,
            ToRevision = chosen.Revision,
            ReplicaSet = chosen.Name,
            Message = $"rolled back from revision {current} to revision {chosen.Revision} (ReplicaSet {chosen.Name})",
        };
    }

    public async Task<DeploymentHealth> HealthAsync(Uri? healthUrl, string? configMap, HttpClient? http, CancellationToken cancellationToken)
    {
        var deployment = await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = KubernetesGateway.Snapshot(deployment);
        var pods = await PodsAsync(deployment, cancellationToken).ConfigureAwait(false);
        var changedAt = configMap is null ? null : await ConfigMapChangedAtAsync(configMap, cancellationToken).ConfigureAwait(false);
        var (metrics, metricsAvailable) = await MetricsAsync(cancellationToken).ConfigureAwait(false);
        var owned = await OwnedReplicaSetsAsync(deployment, cancellationToken).ConfigureAwait(false);
        var names = pods.Select(p => p.Metadata.Name).Concat(owned.Select(r => r.Metadata.Name)).Append(Target.Deployment).ToHashSet(StringComparer.Ordinal);
        var events = await gateway.CallAsync(
            $"list events in {Target.Namespace}",
            (c, ct) => c.CoreV1.ListNamespacedEventAsync(Target.Namespace, cancellationToken: ct),
            null,
            cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        EndpointProbe? probe = null;
        if (healthUrl is not null)
        {
            probe = await ProbeAsync(healthUrl, http ?? SharedHttp.Value, cancellationToken).ConfigureAwait(false);
        }

        return new DeploymentHealth
        {
            Namespace = Target.Namespace,
            Deployment = Target.Deployment,
            Status = snapshot,
            Rollout = RolloutStatusEvaluator.Evaluate(snapshot, Target.Deployment),
            Conditions = (deployment.Status?.Conditions ?? new List<V1DeploymentCondition>()).Select(c => $"{c.Type}={c.Status} ({c.Reason})").ToArray(),
            Pods = pods.Select(p => ToPodHealth(p, changedAt, metrics, now)).ToArray(),
            Events = events.Items
                .Where(e => names.Contains(e.InvolvedObject?.Name ?? ""))
                .Select(e => new ClusterEvent
                {
                    LastSeen = Utc(e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata.CreationTimestamp),
                    Type = e.Type ?? "Normal",
                    Reason = e.Reason ?? "",
                    Object = $"{e.InvolvedObject?.Kind?.ToLowerInvariant()}/{e.InvolvedObject?.Name}",
                    Message = e.Message ?? "",
                    Count = e.Count ?? 1,
                })
                .OrderBy(e => e.LastSeen)
                .TakeLast(50)
                .ToArray(),
            Endpoint = probe,
            ConfigMapChangedAt = changedAt,
            MetricsAvailable = metricsAvailable,
        };
    }

    /// <summary>The pods of the deployment with when they started: what Test-FlagPropagation compares with the ConfigMap's change.</summary>
    public async Task<IReadOnlyList<PodHealth>> PodHealthAsync(string? configMap, CancellationToken cancellationToken)
    {
        var deployment = await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var pods = await PodsAsync(deployment, cancellationToken).ConfigureAwait(false);
        var changedAt = configMap is null ? null : await ConfigMapChangedAtAsync(configMap, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return pods.Select(p => ToPodHealth(p, changedAt, new Dictionary<string, (decimal, long)>(), now)).ToArray();
    }

    /// <summary>When the ConfigMap last changed: the store's annotation, else the newest managedFields entry; null if neither.</summary>
    public async Task<DateTimeOffset?> ConfigMapChangedAtAsync(string name, CancellationToken cancellationToken)
    {
        var configMap = await gateway.CallAsync(
            $"read ConfigMap {Target.Namespace}/{name}",
            (c, ct) => c.CoreV1.ReadNamespacedConfigMapAsync(name, Target.Namespace, cancellationToken: ct),
            () => gateway.MissingAsync(KubernetesErrorIds.ConfigMapNotFound, $"ConfigMap '{name}' does not exist in namespace '{Target.Namespace}'.", name, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return ChangedAt(configMap);
    }

    internal static DateTimeOffset? ChangedAt(V1ConfigMap configMap)
    {
        if (configMap.Metadata.Annotations?.TryGetValue(ChangedAtAnnotation, out var text) == true
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamped))
        {
            return stamped;
        }

        var managed = configMap.Metadata.ManagedFields?.Where(f => f.Time is not null).Select(f => f.Time!.Value).DefaultIfEmpty().Max();
        return managed is { } m && m != default ? Utc(m) : null;
    }

    /// <summary>
    /// Logs of every pod of the deployment (like <c>kubectl logs deployment/x</c>, but all pods, merged by time):
    /// the last <paramref name="tail"/> lines of each pod, only those newer than <paramref name="since"/>, only those
    /// matching <paramref name="match"/>; JSON object lines are parsed.
    /// </summary>
    public async Task<IReadOnlyList<PodLogLine>> LogsAsync(int? tail, TimeSpan? since, Regex? match, CancellationToken cancellationToken)
    {
        if (tail is < 0 || since is { } s && s <= TimeSpan.Zero)
        {
            throw new FlagsException(KubernetesErrorIds.LogRangeInvalid, FlagsErrorKind.InvalidArgument, "-Tail must be zero or more and -Since a positive duration.");
        }

        var deployment = await gateway.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var pods = (await PodsAsync(deployment, cancellationToken).ConfigureAwait(false))
            .Where(p => p.Status?.ContainerStatuses?.Any(c => c.State?.Running is not null || c.State?.Terminated is not null || c.LastState?.Terminated is not null) == true)
            .ToArray();
        var all = new List<PodLogLine>();
        foreach (var pod in pods)
        {
            foreach (var container in pod.Spec.Containers.Select(c => c.Name))
            {
                var text = await gateway.CallAsync(
                    $"read the log of pod {pod.Metadata.Name}",
                    async (c, ct) =>
                    {
                        using var stream = await c.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, Target.Namespace, container: container, sinceSeconds: since is { } sec ? (int)Math.Ceiling(sec.TotalSeconds) : null, tailLines: tail, timestamps: true, cancellationToken: ct).ConfigureAwait(false);
                        using var reader = new StreamReader(stream);
                        return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
                    },
                    null,
                    cancellationToken).ConfigureAwait(false);
                foreach (var raw in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var (at, line) = SplitTimestamp(raw.TrimEnd('\r'));
                    if (match is not null && !match.IsMatch(line))
                    {
                        continue;
                    }

                    all.Add(new PodLogLine(pod.Metadata.Name, container, at, line, ParseJsonLine(line)));
                }
            }
        }

        return all.OrderBy(l => l.Time ?? DateTimeOffset.MinValue).ToArray();
    }

    /// <summary>
    /// The flag as the ConfigMap's document holds it now, and when the ConfigMap last changed. Null value when the
    /// document lacks the flag in that environment; ConfigMapKeyNotFound / ConfigMapDocumentInvalid for a bad ConfigMap.
    /// </summary>
    public async Task<(FlagValue? Value, DateTimeOffset? ChangedAt)> ReadConfigMapFlagAsync(string configMap, string key, string environment, string flag, CancellationToken cancellationToken)
    {
        var cm = await gateway.CallAsync(
            $"read ConfigMap {Target.Namespace}/{configMap}",
            (c, ct) => c.CoreV1.ReadNamespacedConfigMapAsync(configMap, Target.Namespace, cancellationToken: ct),
            () => gateway.MissingAsync(KubernetesErrorIds.ConfigMapNotFound, $"ConfigMap '{configMap}' does not exist in namespace '{Target.Namespace}'.", configMap, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        if (cm.Data is null || !cm.Data.TryGetValue(key, out var document))
        {
            throw new FlagsException(KubernetesErrorIds.ConfigMapKeyNotFound, FlagsErrorKind.ObjectNotFound, $"ConfigMap '{Target.Namespace}/{configMap}' has no key '{key}' (keys: {string.Join(", ", cm.Data?.Keys ?? Array.Empty<string>())}).", key);
        }

        JObject root;
        try
        {
            root = JToken.Parse(document) as JObject ?? throw new JsonException("the document is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new FlagsException(KubernetesErrorIds.ConfigMapDocumentInvalid, FlagsErrorKind.InvalidData, $"ConfigMap '{Target.Namespace}/{configMap}' key '{key}' is not a flag document: {ex.Message}", key, ex);
        }

        var value = root[environment]?[flag];
        if (value is null)
        {
            return (null, ChangedAt(cm));
        }

        var (on, percentage) = Flags.LocalFlagValue.Read(flag, environment, value);
        return (new FlagValue(on, on ? percentage : 0), ChangedAt(cm));
    }

    /// <summary>
    /// Test-FlagPropagation: compares the store's value with what the pods report on their status endpoint (sampled
    /// through the Service often enough to reach every pod) and with which pods started before the ConfigMap changed.
    /// </summary>
    public async Task<PropagationReport> CheckPropagationAsync(string flag, string environment, FlagValue? storeValue, bool storeKnown, string configMap, string key, Uri? statusUrl, string? token, HttpClient? http, CancellationToken cancellationToken)
    {
        var (configMapValue, changedAt) = await ReadConfigMapFlagAsync(configMap, key, environment, flag, cancellationToken).ConfigureAwait(false);
        var store = storeKnown ? storeValue : configMapValue;
        var snapshot = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var pods = await PodHealthAsync(configMap, cancellationToken).ConfigureAwait(false);
        var reported = new Dictionary<string, (FlagValue? Value, bool Missing)>(StringComparer.Ordinal);
        string? statusError = null;
        if (statusUrl is null)
        {
            statusError = "no -StatusUrl given";
        }
        else
        {
            var client = http ?? DeploymentOperations.SharedHttp.Value;
            var samples = Math.Max(4, pods.Count * 3);
            for (var i = 0; i < samples && statusError is null; i++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, statusUrl);
                    if (!string.IsNullOrEmpty(token))
                    {
                        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                    }

                    using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode)
                    {
                        statusError = $"{statusUrl} answered {(int)response.StatusCode} {response.ReasonPhrase}";
                        break;
                    }

                    var body = JToken.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)) as JObject
                               ?? throw new JsonException("not a JSON object");
                    var pod = (string?)body["pod"] ?? (response.Headers.TryGetValues("X-Pod-Name", out var names) ? names.FirstOrDefault() : null) ?? "(service)";
                    var flags = body["flags"] as JObject ?? body;
                    var value = flags[flag];
                    reported[pod] = value is null ? (null, true) : (ToValue(flag, environment, value), false);
                }
                catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    statusError = $"{statusUrl}: {ex.Message}";
                }
            }
        }

        var reports = pods.Select(p =>
        {
            var has = reported.TryGetValue(p.Name, out var r);
            return new PodFlagReport
            {
                Pod = p.Name,
                Ready = p.Ready,
                StartedAt = p.StartedAt,
                StartedAfterConfigChange = p.StartedAfterConfigChange,
                Reported = has ? r.Value : null,
                FlagMissing = has && r.Missing,
                Matches = has && !r.Missing && store is not null ? r.Value == store : null,
            };
        }).ToList();
        if (reported.TryGetValue("(service)", out var anonymous))
        {
            reports.Add(new PodFlagReport { Pod = "(service)", Ready = true, Reported = anonymous.Value, FlagMissing = anonymous.Missing, Matches = !anonymous.Missing && store is not null ? anonymous.Value == store : null });
        }

        var (verdict, recommendation) = PropagationJudge.Judge(store, reports, snapshot.SpecReplicas, RolloutStatusEvaluator.Evaluate(snapshot, Target.Deployment).Done, statusError, Target.Deployment, Target.Namespace);
        return new PropagationReport
        {
            Flag = flag,
            Environment = environment,
            StoreValue = store,
            ConfigMapChangedAt = changedAt,
            Pods = reports,
            Verdict = verdict,
            Recommendation = recommendation,
            StatusError = statusError,
        };
    }

    private static FlagValue? ToValue(string flag, string environment, JToken value)
    {
        try
        {
            var (on, percentage) = Flags.LocalFlagValue.Read(flag, environment, value);
            return new FlagValue(on, on ? percentage : 0);
        }
        catch (FlagsException)
        {
            return null;
        }
    }

    public static EndpointProbe Unreachable(Uri url, string error) => new(url, null, TimeSpan.Zero, error);

    public void Dispose() => gateway.Dispose();

    internal static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient { Timeout = TimeSpan.FromSeconds(10) });

    internal static async Task<EndpointProbe> ProbeAsync(Uri url, HttpClient http, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            return new EndpointProbe(url, (int)response.StatusCode, watch.Elapsed, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new EndpointProbe(url, null, watch.Elapsed, ex.Message);
        }
    }

    internal static JObject? ParseJsonLine(string line)
    {
        var trimmed = line.TrimStart();
        if (!trimmed.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JToken.Parse(trimmed) as JObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static (DateTimeOffset? At, string Line) SplitTimestamp(string raw)
    {
        var space = raw.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return (null, raw);
        }

        var stamp = raw[..space];
        // RFC 3339 with nanoseconds: .NET reads at most seven fraction digits.
        var dot = stamp.IndexOf('.', StringComparison.Ordinal);
        var zone = stamp.IndexOfAny(new[] { 'Z', '+' }, Math.Max(dot, 0));
        if (dot > 0 && zone > dot + 8)
        {
            stamp = stamp[..(dot + 8)] + stamp[zone..];
        }

        return DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? (at, raw[(space + 1)..]) : (null, raw);
    }

    private async Task<IReadOnlyList<V1ReplicaSet>> OwnedReplicaSetsAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var list = await gateway.CallAsync(
            $"list ReplicaSets of {Target.Namespace}/{Target.Deployment}",
            (c, ct) => c.AppsV1.ListNamespacedReplicaSetAsync(Target.Namespace, labelSelector: KubernetesGateway.Selector(deployment), cancellationToken: ct),
            null,
            cancellationToken).ConfigureAwait(false);
        return list.Items.Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == deployment.Metadata.Uid) == true).ToArray();
    }

    private async Task<IReadOnlyList<V1Pod>> PodsAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var list = await gateway.CallAsync(
            $"list pods of {Target.Namespace}/{Target.Deployment}",
            (c, ct) => c.CoreV1.ListNamespacedPodAsync(Target.Namespace, labelSelector: KubernetesGateway.Selector(deployment), cancellationToken: ct),
            null,
            cancellationToken).ConfigureAwait(false);
        return list.Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToArray();
    }

    private async Task<(IReadOnlyDictionary<string, (decimal Cpu, long Memory)> Usage, bool Available)> MetricsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var list = await gateway.Client.GetKubernetesPodsMetricsByNamespaceAsync(Target.Namespace).WaitAsync(cancellationToken).ConfigureAwait(false);
            var usage = new Dictionary<string, (decimal, long)>(StringComparer.Ordinal);
            foreach (var item in list.Items)
            {
                decimal cpu = 0;
                long memory = 0;
                foreach (var container in item.Containers)
                {
                    if (container.Usage.TryGetValue("cpu", out var c))
                    {
                        cpu += c.ToDecimal() * 1000m;
                    }

                    if (container.Usage.TryGetValue("memory", out var m))
                    {
                        memory += (long)m.ToDecimal();
                    }
                }

                usage[item.Metadata.Name] = (cpu, memory);
            }

            return (usage, true);
        }
        catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or HttpRequestException or JsonException or System.Text.Json.JsonException)
        {
            // No metrics-server (404) or a metrics API that answers oddly: health is still reported, without usage.
            return (new Dictionary<string, (decimal, long)>(), false);
        }
    }

    private static PodHealth ToPodHealth(V1Pod pod, DateTimeOffset? changedAt, IReadOnlyDictionary<string, (decimal Cpu, long Memory)> metrics, DateTimeOffset now)
    {
        var statuses = pod.Status?.ContainerStatuses ?? new List<V1ContainerStatus>();
        var running = statuses.Select(s => s.State?.Running?.StartedAt).Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty().Max();
        var started = running != default ? Utc(running) : Utc(pod.Status?.StartTime);
        var reason = statuses.Select(s => s.State?.Waiting?.Reason ?? s.State?.Terminated?.Reason ?? (s.RestartCount > 0 ? s.LastState?.Terminated?.Reason : null)).FirstOrDefault(r => r is not null);
        var created = Utc(pod.Metadata.CreationTimestamp);
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        return new PodHealth
        {
            Name = pod.Metadata.Name,
            Phase = pod.Status?.Phase ?? "Unknown",
            Ready = ready,
            Restarts = statuses.Sum(s => s.RestartCount),
            LastRestartAt = statuses.Select(s => Utc(s.LastState?.Terminated?.FinishedAt)).Where(t => t is not null).DefaultIfEmpty().Max(),
            CreatedAt = created,
            StartedAt = started,
            Age = created is { } c ? now - c : null,
            Node = pod.Spec?.NodeName,
            ReplicaSet = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Name,
            Reason = reason,
            // Kubernetes times have whole seconds: a pod that started in the same second as the change may have read
            // either document, so it counts as started before (a needless restart is cheap, a missed stale pod is not).
            StartedAfterConfigChange = changedAt is { } change && started is { } s ? s > Truncate(change) : null,
            CpuMillicores = metrics.TryGetValue(pod.Metadata.Name, out var usage) ? decimal.Round(usage.Cpu, 1) : null,
            MemoryBytes = metrics.TryGetValue(pod.Metadata.Name, out var u) ? u.Memory : null,
        };
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), t.Offset);

    private static long RevisionOf(V1ReplicaSet rs)
        => long.TryParse(rs.Metadata.Annotations?.TryGetValue("deployment.kubernetes.io/revision", out var r) == true ? r : null, NumberStyles.Integer, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
