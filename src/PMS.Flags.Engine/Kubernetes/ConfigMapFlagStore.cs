using System.Globalization;
using k8s;
using k8s.Models;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// The playbook's Option B: the flag document in a ConfigMap key (<c>pms/feature-flags-config</c>,
/// <c>feature_flags.json</c>), read by the pods when they start. A change edits ONE flag with the same byte-preserving
/// <see cref="FlagDocumentEditor"/> as the local file (every other flag and environment stays byte-identical), replaces
/// the ConfigMap with the resourceVersion it read, and on 409 Conflict re-reads and re-applies only that one change, at
/// most <see cref="MaxAttempts"/> times. It is APPLIED then; it PROPAGATES when the deployment has been restarted and
/// its new pods are ready (<see cref="WaitForPropagationAsync"/>, like kubectl rollout restart + rollout status), unless
/// the store was connected with NoRestart.
/// </summary>
public sealed class ConfigMapFlagStore : IFlagStore, IDisposable
{
    public const int MaxAttempts = 5;

    private readonly KubernetesGateway gateway;
    private readonly DeploymentOperations? deployment;
    private readonly TimeProvider time;

    private ConfigMapFlagStore(KubernetesGateway gateway, DeploymentOperations? deployment, string configMap, string key, string? defaultEnvironment, IEnumerable<string>? protectedEnvironments, TimeSpan rolloutTimeout, TimeProvider time)
    {
        this.gateway = gateway;
        this.deployment = deployment;
        this.time = time;
        ConfigMap = configMap;
        Key = key;
        DefaultEnvironment = defaultEnvironment;
        ProtectedEnvironments = (protectedEnvironments ?? new[] { "production" }).ToArray();
        RolloutTimeout = rolloutTimeout;
    }

    public string Kind => "ConfigMap";

    public string Name => $"ConfigMap:{Namespace}/{ConfigMap}/{Key}";

    public string Identity => $"configmap:{Namespace}/{ConfigMap}/{Key}";

    public string Namespace => gateway.Target.Namespace;

    public string ConfigMap { get; }

    public string Key { get; }

    /// <summary>The deployment restarted after a change; null with NoRestart.</summary>
    public string? Deployment => deployment?.Target.Deployment;

    public string? DefaultEnvironment { get; }

    public IReadOnlyCollection<string> ProtectedEnvironments { get; }

    public TimeSpan RolloutTimeout { get; }

    public bool PropagatesLater => deployment is not null;

    /// <summary>Requests of the last ApplyAsync (reads and replaces), for the bench and tests.</summary>
    public int LastApplyRequests { get; private set; }

    public DateTimeOffset? LastAppliedAt { get; private set; }

    public DateTimeOffset? LastRestartedAt { get; private set; }

    public DateTimeOffset? LastPodsReadyAt { get; private set; }

    /// <summary>Connects and checks the ConfigMap, its key, its document and (unless noRestart) the deployment exist.</summary>
    public static async Task<ConfigMapFlagStore> ConnectAsync(KubernetesTarget target, string configMap, string key, bool noRestart, string? defaultEnvironment, IEnumerable<string>? protectedEnvironments, TimeSpan rolloutTimeout, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        KubernetesTarget.RequireName(configMap, "ConfigMap", label: false);
        var gateway = KubernetesGateway.Connect(target);
        var deployment = noRestart ? null : DeploymentOperations.Connect(target, time);
        var store = new ConfigMapFlagStore(gateway, deployment, configMap, key, defaultEnvironment, protectedEnvironments, rolloutTimeout, time ?? TimeProvider.System);
        try
        {
            _ = (await store.ReadAsync(cancellationToken).ConfigureAwait(false)).Editor.ReadEnvironments();
            if (deployment is not null)
            {
                await deployment.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    public async Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken)
        => (await ReadAsync(cancellationToken).ConfigureAwait(false)).Editor.ReadEnvironments();

    public async Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
    {
        var (editor, configMap) = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var changed = DeploymentOperations.ChangedAt(configMap);
        return editor.ReadFlags(environment, flag).Select(v => ToState(v, configMap.Metadata.ResourceVersion, changed)).ToArray();
    }

    public async Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken)
    {
        var (editor, configMap) = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var edit = editor.Edit(change);
        return new FlagChangeResult(ToState(edit.Before, configMap.Metadata.ResourceVersion, DeploymentOperations.ChangedAt(configMap)), ToState(edit.After, configMap.Metadata.ResourceVersion, time.GetUtcNow()), edit.Changed);
    }

    public async Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken)
    {
        var requests = 0;
        for (var attempt = 1; ; attempt++)
        {
            var (editor, configMap) = await ReadAsync(cancellationToken).ConfigureAwait(false);
            requests++;
            var edit = editor.Edit(change);
            var before = ToState(edit.Before, configMap.Metadata.ResourceVersion, DeploymentOperations.ChangedAt(configMap));
            if (!edit.Changed)
            {
                LastApplyRequests = requests;
                return new FlagChangeResult(before, before, false);
            }

            var now = time.GetUtcNow();
            configMap.Data[Key] = edit.NewText;
            configMap.Metadata.Annotations ??= new Dictionary<string, string>();
            configMap.Metadata.Annotations[DeploymentOperations.ChangedAtAnnotation] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            configMap.Metadata.ManagedFields = null;
            try
            {
                requests++;
                var written = await gateway.CallAsync(
                    $"replace ConfigMap {Namespace}/{ConfigMap}",
                    (c, ct) => c.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, ConfigMap, Namespace, fieldManager: "pms-flags", cancellationToken: ct),
                    () => gateway.MissingAsync(KubernetesErrorIds.ConfigMapNotFound, $"ConfigMap '{ConfigMap}' was deleted from namespace '{Namespace}' during the change; nothing was written.", ConfigMap, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
                LastApplyRequests = requests;
                LastAppliedAt = now;
                return new FlagChangeResult(before, ToState(edit.After, written.Metadata.ResourceVersion, now), true);
            }
            catch (FlagsException ex) when (ex.ErrorId == KubernetesErrorIds.ConfigMapConflict && attempt < MaxAttempts)
            {
                // Someone else wrote the ConfigMap since we read it: re-read, and re-apply only our one-flag change.
                AmbientOperationLog.Current?.Verbose($"{Name} changed under the write (409 Conflict, attempt {attempt} of {MaxAttempts}); re-reading and re-applying the one change.");
            }
            catch (FlagsException ex) when (ex.ErrorId == KubernetesErrorIds.ConfigMapConflict)
            {
                throw new FlagsException(KubernetesErrorIds.ConfigMapConflict, FlagsErrorKind.InvalidOperation, $"{Name} kept changing under the write ({MaxAttempts} attempts, each answered 409 Conflict); nothing of this change was written. Try again.", Name, ex);
            }
        }
    }

    /// <summary>
    /// Restarts the deployment (kubectl rollout restart) and waits like kubectl rollout status. A rollout that does not
    /// finish throws with ChangeWasMade, saying that the ConfigMap holds the new value and the pods do not yet.
    /// </summary>
    public async Task<DateTimeOffset> WaitForPropagationAsync(FlagChangeResult applied, CancellationToken cancellationToken)
    {
        if (deployment is null)
        {
            return time.GetUtcNow();
        }

        LastRestartedAt = await deployment.RestartAsync(cancellationToken).ConfigureAwait(false);
        var log = AmbientOperationLog.Current;
        log?.Verbose($"{Name} changed; restarted deployment {Namespace}/{deployment.Target.Deployment} so its pods read it.");
        var (progress, outcome, at) = await deployment.WaitAsync(RolloutTimeout, p => log?.Verbose(p.Message), cancellationToken).ConfigureAwait(false);
        if (outcome == DeploymentRolloutOutcome.Complete)
        {
            LastPodsReadyAt = at;
            return at;
        }

        var state = $"{Name} holds the new value ({applied.Current}), but the pods of deployment {Namespace}/{deployment.Target.Deployment} do not serve it yet";
        throw outcome == DeploymentRolloutOutcome.ProgressDeadlineExceeded
            ? new FlagsException(KubernetesErrorIds.ProgressDeadlineExceeded, FlagsErrorKind.OperationTimeout, $"{state}: {progress.Message} (new pods not ready, crash-looping or failing probes; the old pods keep serving the old value). Inspect with Get-PmsDeploymentHealth and Get-PmsLog.", Name) { ChangeWasMade = true }
            : new FlagsException(KubernetesErrorIds.RolloutTimeout, FlagsErrorKind.OperationTimeout, $"{state}: the restart did not finish within {RolloutTimeout} ({progress.Message}); it goes on in the cluster.", Name) { ChangeWasMade = true };
    }

    public override string ToString() => Name;

    public void Dispose()
    {
        deployment?.Dispose();
        gateway.Dispose();
    }

    private async Task<(FlagDocumentEditor Editor, V1ConfigMap ConfigMap)> ReadAsync(CancellationToken cancellationToken)
    {
        var configMap = await gateway.CallAsync(
            $"read ConfigMap {Namespace}/{ConfigMap}",
            (c, ct) => c.CoreV1.ReadNamespacedConfigMapAsync(ConfigMap, Namespace, cancellationToken: ct),
            () => gateway.MissingAsync(KubernetesErrorIds.ConfigMapNotFound, $"ConfigMap '{ConfigMap}' does not exist in namespace '{Namespace}'.", ConfigMap, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        if (configMap.Data is null || !configMap.Data.TryGetValue(Key, out var text))
        {
            throw new FlagsException(KubernetesErrorIds.ConfigMapKeyNotFound, FlagsErrorKind.ObjectNotFound, $"ConfigMap '{Namespace}/{ConfigMap}' has no key '{Key}' (keys: {string.Join(", ", configMap.Data?.Keys ?? Array.Empty<string>())}).", Key);
        }

        var editor = new FlagDocumentEditor(text, Name);
        try
        {
            editor.ReadEnvironments();
        }
        catch (FlagsException ex) when (ex.Kind == FlagsErrorKind.InvalidData)
        {
            throw new FlagsException(KubernetesErrorIds.ConfigMapDocumentInvalid, FlagsErrorKind.InvalidData, $"ConfigMap '{Namespace}/{ConfigMap}' key '{Key}' is not a flag document: {ex.Message}", Key, ex);
        }

        return (editor, configMap);
    }

    private FlagState ToState(FlagDocumentValue value, string? version, DateTimeOffset? lastModified)
        => new(value.Flag, value.Environment, value.On, value.Percentage, Name, version, lastModified, servedBy: "document");
}
