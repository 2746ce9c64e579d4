using System.Net;
using System.Security.Authentication;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// The only class that talks to KubernetesClient: builds the client from a kubeconfig (or in-cluster config) and turns
/// every failure into a FlagsException with a KubernetesErrorIds id. The module loads KubernetesClient (and YamlDotNet)
/// the first time this type is used, so nothing outside the Kubernetes cmdlets, the ConfigMap store and the deployment
/// guardrail may reference it. Messages never carry the token.
/// </summary>
internal sealed class KubernetesGateway : IDisposable
{
    private readonly k8s.Kubernetes client;

    private KubernetesGateway(k8s.Kubernetes client, KubernetesTarget target, string server)
    {
        this.client = client;
        Target = target;
        Server = server;
    }

    public KubernetesTarget Target { get; }

    /// <summary>The API server's URL, for messages.</summary>
    public string Server { get; }

    public IKubernetes Client => client;

    public static KubernetesGateway Connect(KubernetesTarget target)
    {
        target.Validate();
        var configuration = BuildConfiguration(target);
        configuration.HttpClientTimeout = target.RequestTimeout;
        return new KubernetesGateway(new k8s.Kubernetes(configuration), target, configuration.Host ?? "");
    }

    private static KubernetesClientConfiguration BuildConfiguration(KubernetesTarget target)
    {
        string? path = target.KubeConfigPath;
        if (path is null)
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists);
            var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
            path = fromEnvironment ?? (File.Exists(home) ? home : null);
            if (path is null)
            {
                if (KubernetesClientConfiguration.IsInCluster())
                {
                    if (target.Context is not null)
                    {
                        throw new FlagsException(KubernetesErrorIds.KubeContextNotFound, FlagsErrorKind.ObjectNotFound, $"-KubeContext '{target.Context}' was given, but no kubeconfig exists here: inside a pod only the in-cluster service account is available.", target.Context);
                    }

                    return KubernetesClientConfiguration.InClusterConfig();
                }

                throw new FlagsException(KubernetesErrorIds.KubeConfigNotFound, FlagsErrorKind.ObjectNotFound, "No kubeconfig found: pass -KubeConfig, set KUBECONFIG, create ~/.kube/config, or run inside a pod with a service account.");
            }
        }
        else if (!File.Exists(path))
        {
            throw new FlagsException(KubernetesErrorIds.KubeConfigNotFound, FlagsErrorKind.ObjectNotFound, $"The kubeconfig '{path}' does not exist.", path);
        }

        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(path, currentContext: target.Context);
        }
        catch (KubeConfigException ex) when (target.Context is not null && ex.Message.Contains(target.Context, StringComparison.Ordinal) && ex.Message.Contains("context", StringComparison.OrdinalIgnoreCase))
        {
            throw new FlagsException(KubernetesErrorIds.KubeContextNotFound, FlagsErrorKind.ObjectNotFound, $"The kubeconfig '{path}' has no context '{target.Context}'.", target.Context, ex);
        }
        catch (Exception ex) when (ex is KubeConfigException or YamlDotNet.Core.YamlException or IOException or ArgumentException or FormatException or NullReferenceException)
        {
            throw new FlagsException(KubernetesErrorIds.KubeConfigInvalid, FlagsErrorKind.InvalidData, $"The kubeconfig '{path}' cannot be used: {ex.Message}", path, ex);
        }
    }

    /// <summary>Runs one API call; 404 is passed to <paramref name="notFound"/>, which names what was missing.</summary>
    public async Task<T> CallAsync<T>(string what, Func<IKubernetes, CancellationToken, Task<T>> call, Func<Task<FlagsException>>? notFound, CancellationToken cancellationToken)
    {
        try
        {
            return await call(client, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound && notFound is not null)
        {
            throw await notFound().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw Translate(what, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or IOException or AuthenticationException)
        {
            throw new FlagsException(KubernetesErrorIds.ApiUnreachable, FlagsErrorKind.ConnectionError, $"The Kubernetes API server {Server} cannot be reached ({what}): {Describe(ex)}", Server, ex);
        }
    }

    /// <summary>404 disambiguation: a missing namespace explains every 404 below it.</summary>
    public async Task<FlagsException> MissingAsync(string errorId, string message, object? target, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.ReadNamespaceAsync(Target.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new FlagsException(KubernetesErrorIds.NamespaceNotFound, FlagsErrorKind.ObjectNotFound, $"Namespace '{Target.Namespace}' does not exist on {Server}.", Target.Namespace);
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException)
        {
            // Not allowed to read namespaces (RBAC) or a hiccup: fall back to naming the object.
        }

        return new FlagsException(errorId, FlagsErrorKind.ObjectNotFound, message, target);
    }

    public Task<V1Deployment> ReadDeploymentAsync(CancellationToken cancellationToken)
        => CallAsync(
            $"read deployment {Target.Namespace}/{Target.Deployment}",
            (c, ct) => c.AppsV1.ReadNamespacedDeploymentAsync(Target.Deployment, Target.Namespace, cancellationToken: ct),
            () => MissingAsync(KubernetesErrorIds.DeploymentNotFound, $"Deployment '{Target.Deployment}' does not exist in namespace '{Target.Namespace}'.", Target.Deployment, cancellationToken),
            cancellationToken);

    /// <summary>
    /// A Ready, Running pod of the deployment that is not being deleted, newest first (the current template's pods
    /// come up last); null when there is none.
    /// </summary>
    public async Task<V1Pod?> FindReadyPodAsync(CancellationToken cancellationToken)
    {
        var deployment = await ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
        var pods = await CallAsync(
            $"list pods of {Target.Namespace}/{Target.Deployment}",
            (c, ct) => c.CoreV1.ListNamespacedPodAsync(Target.Namespace, labelSelector: Selector(deployment), cancellationToken: ct),
            null,
            cancellationToken).ConfigureAwait(false);
        return pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase == "Running" && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderByDescending(p => p.Metadata.CreationTimestamp)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>
    /// Runs a command in a container over the exec websocket (v4.channel.k8s.io, no stdin, no tty) and hands every
    /// stdout/stderr line to <paramref name="line"/> as it arrives. Returns the exit code from the status channel, or
    /// null when the connection ended without one: the command's outcome is then unknown (it may still be running).
    /// </summary>
    public async Task<int?> ExecAsync(string pod, string? container, IReadOnlyList<string> command, Action<string, bool> line, CancellationToken cancellationToken)
    {
        // A refused websocket upgrade surfaces as a bare WebSocketException (status code, no body), so what the API
        // server would refuse is checked first with a plain read, for a message that names the cause.
        var target = await CallAsync(
            $"read pod {Target.Namespace}/{pod}",
            (c, ct) => c.CoreV1.ReadNamespacedPodAsync(pod, Target.Namespace, cancellationToken: ct),
            () => MissingAsync(KubernetesErrorIds.PodNotFound, $"Pod '{pod}' does not exist in namespace '{Target.Namespace}'.", pod, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        var containers = target.Spec?.Containers?.Select(c => c.Name).ToArray() ?? Array.Empty<string>();
        if (container is not null && !containers.Contains(container, StringComparer.Ordinal))
        {
            throw new FlagsException(KubernetesErrorIds.ContainerNotFound, FlagsErrorKind.ObjectNotFound, $"Pod {Target.Namespace}/{pod} has no container '{container}' (it has: {string.Join(", ", containers)}).", container);
        }

        System.Net.WebSockets.WebSocket socket;
        try
        {
            socket = await CallAsync(
                $"exec in pod {Target.Namespace}/{pod}",
                (c, ct) => client.WebSocketNamespacedPodExecAsync(pod, Target.Namespace, command, container, stderr: true, stdin: false, stdout: true, tty: false, cancellationToken: ct),
                () => MissingAsync(KubernetesErrorIds.PodNotFound, $"Pod '{pod}' does not exist in namespace '{Target.Namespace}'.", pod, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.WebSockets.WebSocketException ex)
        {
            throw new FlagsException(KubernetesErrorIds.ApiRejected, FlagsErrorKind.InvalidOperation, $"The Kubernetes API server refused to exec in pod {Target.Namespace}/{pod}: {ex.Message}", pod, ex);
        }

        using var muxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: true);
        using var stdout = muxer.GetStream(ChannelIndex.StdOut, null);
        using var stderr = muxer.GetStream(ChannelIndex.StdErr, null);
        using var status = muxer.GetStream(ChannelIndex.Error, null);
        muxer.Start();

        // The demuxer's streams block on read; disposing the muxer (on cancellation) ends them.
        using var stop = cancellationToken.Register(() => muxer.Dispose());
        var pumps = new[] { Task.Run(() => Pump(stdout, true)), Task.Run(() => Pump(stderr, false)) };
        var statusText = await Task.Run(() => new StreamReader(status).ReadToEnd()).ConfigureAwait(false);
        await Task.WhenAll(pumps).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrWhiteSpace(statusText))
        {
            return null;
        }

        V1Status answer;
        try
        {
            answer = KubernetesJson.Deserialize<V1Status>(statusText);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        try
        {
            return k8s.Kubernetes.GetExitCodeOrThrow(answer);
        }
        catch (KubernetesException ex)
        {
            throw new FlagsException(KubernetesErrorIds.ApiRejected, FlagsErrorKind.InvalidOperation, $"The command in pod {Target.Namespace}/{pod} could not run: {ex.Status?.Message ?? ex.Message}", pod, ex);
        }

        void Pump(Stream stream, bool isStandardOutput)
        {
            using var reader = new StreamReader(stream);
            try
            {
                string? text;
                while ((text = reader.ReadLine()) is not null)
                {
                    line(text, isStandardOutput);
                }
            }
            catch (ObjectDisposedException)
            {
                // Cancelled: the muxer was disposed under the reader.
            }
        }
    }

    public static string Selector(V1Deployment deployment)
        => string.Join(",", (deployment.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    public static DeploymentSnapshot Snapshot(V1Deployment d)
    {
        var progressing = d.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        return new DeploymentSnapshot
        {
            Generation = d.Metadata.Generation ?? 0,
            ObservedGeneration = d.Status?.ObservedGeneration ?? 0,
            SpecReplicas = d.Spec.Replicas ?? 1,
            Replicas = d.Status?.Replicas ?? 0,
            UpdatedReplicas = d.Status?.UpdatedReplicas ?? 0,
            ReadyReplicas = d.Status?.ReadyReplicas ?? 0,
            AvailableReplicas = d.Status?.AvailableReplicas ?? 0,
            ProgressingReason = progressing?.Reason,
            ProgressingMessage = progressing?.Message,
            Revision = int.TryParse(d.Metadata.Annotations?.TryGetValue("deployment.kubernetes.io/revision", out var r) == true ? r : null, out var revision) ? revision : null,
        };
    }

    private FlagsException Translate(string what, HttpOperationException ex)
    {
        var status = (int)ex.Response.StatusCode;
        var detail = StatusMessage(ex.Response.Content) ?? ex.Response.ReasonPhrase ?? ex.Message;
        return status switch
        {
            401 => new FlagsException(KubernetesErrorIds.Unauthorized, FlagsErrorKind.AuthenticationError, $"The Kubernetes API server {Server} refused the credentials (401 Unauthorized) to {what}: the token is missing, invalid or expired. Refresh the kubeconfig's credentials.", Server, ex),
            403 => new FlagsException(KubernetesErrorIds.Forbidden, FlagsErrorKind.PermissionDenied, $"Not allowed to {what} (403): {detail}", Server, ex),
            409 => new FlagsException(KubernetesErrorIds.ConfigMapConflict, FlagsErrorKind.InvalidOperation, $"Conflict while trying to {what}: {detail}", Server, ex),
            _ => new FlagsException(KubernetesErrorIds.ApiRejected, FlagsErrorKind.InvalidOperation, $"The Kubernetes API server refused to {what} ({status}): {detail}", Server, ex),
        };
    }

    internal static string? StatusMessage(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return null;
        }

        try
        {
            return (string?)Newtonsoft.Json.Linq.JObject.Parse(content)["message"];
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return content.Length > 200 ? content[..200] : content;
        }
    }

    private static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (!messages.Contains(e.Message))
            {
                messages.Add(e.Message);
            }
        }

        return string.Join(" → ", messages);
    }

    public void Dispose() => client.Dispose();
}
