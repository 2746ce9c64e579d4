using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>
/// A stand-in for the Kubernetes API subset PMS.Flags and kubectl use (toolchain.md §8), plus the PMS backend's pods.
/// One http and one https port (self-signed, see <see cref="SelfSignedCertificate"/>); /api and /apis need the bearer
/// token, /version does not (the kubectl dispatcher probes it without credentials).
/// <para>Backend (no Kubernetes auth): GET /svc/{ns}/{deployment}/health and /svc/{ns}/{deployment}/api/v1/feature-flags/status
/// (the Service: round robin over ready pods), GET /pod/{ns}/{pod}/… (one pod). The status needs the backend token and
/// answers the document the pod read when it started.</para>
/// <para>Control API (no auth): GET /_control/state, POST /_control/config {podReadySeconds, crashLoop, crashReason,
/// metrics, progressDeadlineSeconds}, POST /_control/interfere {namespace, name, data}, POST /_control/exec {dropAfterLines, commandContains}, POST /_control/logs {namespace,
/// pod, lines}, GET|DELETE /_control/configmaps/{ns}/{name}, GET|DELETE /_control/requests, GET /_control/ca,
/// POST /_control/reset, POST /_control/shutdown.</para>
/// </summary>
public sealed class KubernetesStandIn : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource ticking = new();
    private readonly Task ticker;

    private KubernetesStandIn(WebApplication app, KubernetesCluster cluster, Uri baseUri, Uri tlsUri, X509Certificate2 certificate)
    {
        this.app = app;
        Cluster = cluster;
        BaseUri = baseUri;
        TlsUri = tlsUri;
        Certificate = certificate;
        ticker = Task.Run(TickAsync);
    }

    public Uri BaseUri { get; }

    public Uri TlsUri { get; }

    public X509Certificate2 Certificate { get; }

    public KubernetesCluster Cluster { get; }

    public static async Task<KubernetesStandIn> StartAsync(KubernetesStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KubernetesStandInOptions();
        var cluster = new KubernetesCluster(options);
        var certificate = SelfSignedCertificate.Create();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(KubernetesStandIn).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port, l => l.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, options.TlsPort, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        KubernetesStandIn? standIn = null;
        Configure(app, cluster, options, () => standIn!);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var http = app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal));
        var https = app.Urls.First(u => u.StartsWith("https://", StringComparison.Ordinal));
        standIn = new KubernetesStandIn(app, cluster, new Uri(http), new Uri(https), certificate);
        return standIn;
    }

    /// <summary>
    /// Console entry: <c>kubernetes [--token T] [--backend-token T] [--replicas N] [--pod-ready-seconds S]
    /// [--progress-deadline-seconds S] [--document FILE] [--environment E] [--no-metrics] [--port N] [--tls-port N]</c>.
    /// First stdout line: <c>LISTENING http://127.0.0.1:P https://127.0.0.1:Q</c>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var o = new KubernetesStandInOptions();
        string? token = null, backendToken = null, document = null, environment = null;
        int? replicas = null, deadline = null;
        double? ready = null;
        var metrics = true;
        int port = 0, tlsPort = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--token": token = Next(); break;
                case "--backend-token": backendToken = Next(); break;
                case "--replicas": replicas = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--pod-ready-seconds": ready = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--progress-deadline-seconds": deadline = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--document": document = File.ReadAllText(Next()); break;
                case "--environment": environment = Next(); break;
                case "--no-metrics": metrics = false; break;
                case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--tls-port": tlsPort = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        var options = new KubernetesStandInOptions
        {
            Token = token ?? o.Token,
            BackendToken = backendToken ?? o.BackendToken,
            Replicas = replicas ?? o.Replicas,
            PodReadySeconds = ready ?? o.PodReadySeconds,
            ProgressDeadlineSeconds = deadline ?? o.ProgressDeadlineSeconds,
            Document = document,
            Environment = environment ?? o.Environment,
            Metrics = metrics,
            Port = port,
            TlsPort = tlsPort,
        };
        await using var standIn = await StartAsync(options).ConfigureAwait(false);
        Console.Out.WriteLine($"LISTENING {standIn.BaseUri.GetLeftPart(UriPartial.Authority)} {standIn.TlsUri.GetLeftPart(UriPartial.Authority)}");
        Console.Out.Flush();
        await standIn.app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        ticking.Cancel();
        await ticker.ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        Certificate.Dispose();
    }

    private async Task TickAsync()
    {
        while (!ticking.IsCancellationRequested)
        {
            Cluster.Tick(DateTimeOffset.UtcNow);
            try
            {
                await Task.Delay(20, ticking.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static void Configure(WebApplication app, KubernetesCluster cluster, KubernetesStandInOptions options, Func<KubernetesStandIn> self)
    {
        // ---- pod exec (websocket; see PodExec), ahead of the catch-all API route, which reads the request body first
        app.UseWebSockets();
        app.MapMethods("/api/v1/namespaces/{ns}/pods/{pod}/exec", new[] { "GET", "POST" }, (HttpContext c, string ns, string pod) => PodExec.HandleAsync(c, cluster, options, ns, pod));

        // ---- the PMS backend's pods and Service
        app.MapGet("/svc/{ns}/{deployment}/health", (string ns, string deployment)
            => cluster.ServiceHealthy(ns, deployment) ? Results.Json(new { status = "ok" }) : Results.Json(new { status = "unavailable" }, statusCode: 503));
        app.MapGet("/svc/{ns}/{deployment}/api/v1/feature-flags/status", (HttpContext c, string ns, string deployment)
            => BackendStatus(c, options, () => cluster.ServiceFlagStatus(ns, deployment)));
        app.MapGet("/pod/{ns}/{pod}/health", (string ns, string pod)
            => cluster.PodFlagStatus(ns, pod) is null ? Results.Json(new { status = "unavailable" }, statusCode: 503) : Results.Json(new { status = "ok" }));
        app.MapGet("/pod/{ns}/{pod}/api/v1/feature-flags/status", (HttpContext c, string ns, string pod)
            => BackendStatus(c, options, () => cluster.PodFlagStatus(ns, pod)));

        // ---- control API
        app.MapGet("/_control/state", (HttpContext c) => Json(cluster.Snapshot(c.Request.Query["namespace"].FirstOrDefault() ?? options.Namespace, c.Request.Query["deployment"].FirstOrDefault() ?? options.DeploymentName)));
        app.MapPost("/_control/config", async (HttpContext c) =>
        {
            var body = await ReadJsonAsync(c).ConfigureAwait(false);
            cluster.PodReadySeconds = (double?)body["podReadySeconds"] ?? cluster.PodReadySeconds;
            cluster.CrashLoop = (bool?)body["crashLoop"] ?? cluster.CrashLoop;
            cluster.CrashReason = (string?)body["crashReason"] ?? cluster.CrashReason;
            cluster.Metrics = (bool?)body["metrics"] ?? cluster.Metrics;
            if ((int?)body["progressDeadlineSeconds"] is { } deadline)
            {
                cluster.SetProgressDeadline((string?)body["namespace"] ?? options.Namespace, (string?)body["deployment"] ?? options.DeploymentName, deadline);
            }

            return Json(cluster.Snapshot(options.Namespace, options.DeploymentName));
        });
        app.MapPost("/_control/interfere", async (HttpContext c) =>
        {
            var body = await ReadJsonAsync(c).ConfigureAwait(false);
            cluster.InterfereWithNextWrite((string?)body["namespace"] ?? options.Namespace, (string?)body["name"] ?? options.ConfigMapName, (JObject)body["data"]!);
            return Json(new JObject { ["armed"] = true });
        });
        app.MapPost("/_control/logs", async (HttpContext c) =>
        {
            var body = await ReadJsonAsync(c).ConfigureAwait(false);
            return Answer(() =>
            {
                foreach (var line in (body["lines"] as JArray ?? new JArray()).Select(l => (string?)l ?? ""))
                {
                    cluster.AppendLog((string?)body["namespace"] ?? options.Namespace, (string?)body["pod"], line);
                }

                return new JObject { ["appended"] = true };
            });
        });
        app.MapPost("/_control/exec", async (HttpContext c) =>
        {
            var body = await ReadJsonAsync(c).ConfigureAwait(false);
            var lines = (int?)body["dropAfterLines"] ?? -1;
            cluster.DropNextExecAfter(lines, (string?)body["commandContains"]);
            return Json(new JObject { ["dropAfterLines"] = lines, ["commandContains"] = body["commandContains"] });
        });
        app.MapGet("/_control/configmaps/{ns}/{name}", (string ns, string name) => Answer(() => cluster.Get("configmaps", ns, name)));
        app.MapDelete("/_control/configmaps/{ns}/{name}", (string ns, string name) => Answer(() => cluster.Delete("configmaps", ns, name)));
        app.MapGet("/_control/requests", () => Json(new JObject { ["items"] = JArray.FromObject(cluster.Requests) }));
        app.MapDelete("/_control/requests", () =>
        {
            cluster.ClearRequests();
            return Json(new JObject { ["items"] = new JArray() });
        });
        app.MapGet("/_control/ca", () => Results.Text(SelfSignedCertificate.ToPem(self().Certificate), "application/x-pem-file"));
        app.MapPost("/_control/reset", () =>
        {
            cluster.Reset();
            return Json(new JObject { ["reset"] = true });
        });
        app.MapPost("/_control/shutdown", (IHostApplicationLifetime lifetime) =>
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(100).ConfigureAwait(false);
                lifetime.StopApplication();
            });
            return Json(new JObject { ["stopping"] = true });
        });

        // ---- the Kubernetes API
        app.MapGet("/version", () => Json(new JObject
        {
            ["major"] = "1",
            ["minor"] = options.Minor,
            ["gitVersion"] = $"v1.{options.Minor}.4",
            ["gitCommit"] = "4cb5f07f1c7bb3c3f7a1cf1a5d8f0a1c4e2b3d4e",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2025-04-22T15:53:24Z",
            ["goVersion"] = "go1.23.6",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        }));
        // Everything else is the API; "{**path}" rather than the default fallback, whose "nonfile" constraint would
        // skip paths with a dot such as /apis/metrics.k8s.io/v1beta1.
        app.MapFallback("{**path}", (HttpContext context) => ApiAsync(context, cluster, options));
    }

    private static IResult BackendStatus(HttpContext c, KubernetesStandInOptions options, Func<JObject?> read)
    {
        if (c.Request.Headers.Authorization.ToString() != "Bearer " + options.BackendToken)
        {
            return Results.Json(new { error = "unauthorized", message = "A valid bearer token is required." }, statusCode: 401);
        }

        var status = read();
        if (status is null)
        {
            return Results.Json(new { error = "unavailable", message = "No ready pod." }, statusCode: 503);
        }

        c.Response.Headers["X-Pod-Name"] = (string?)status["pod"];
        return Json(status);
    }

    private static async Task ApiAsync(HttpContext context, KubernetesCluster cluster, KubernetesStandInOptions options)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var presented = request.Headers.Authorization.ToString();
        var authorization = string.IsNullOrEmpty(presented) ? "missing" : presented == "Bearer " + options.Token ? "valid" : "invalid";
        var record = cluster.Record(sequence => new KubeRequest
        {
            Sequence = sequence,
            Time = DateTimeOffset.UtcNow,
            Scheme = request.Scheme,
            Method = request.Method,
            Path = request.Path.Value ?? "",
            Query = request.QueryString.Value ?? "",
            UserAgent = request.Headers.UserAgent.ToString(),
            ContentType = request.ContentType,
            Accept = request.Headers.Accept.ToString(),
            Authorization = authorization,
            Body = body.Length == 0 ? null : body,
        });

        var segments = (request.Path.Value ?? "").Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments[0] is not ("api" or "apis" or "openapi"))
        {
            await WriteAsync(context, record, new KubeError(404, "NotFound", "the server could not find the requested resource").ToStatus(), 404).ConfigureAwait(false);
            return;
        }

        if (authorization != "valid")
        {
            await WriteAsync(context, record, KubeError.Unauthorized().ToStatus(), 401).ConfigureAwait(false);
            return;
        }

        try
        {
            if (IsWatch(request) && request.Method == "GET")
            {
                await WatchAsync(context, record, cluster, segments).ConfigureAwait(false);
                return;
            }

            var (status, answer, text) = Dispatch(context, cluster, segments, body);
            if (text is not null)
            {
                record.Status = status;
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync(text, Encoding.UTF8).ConfigureAwait(false);
                return;
            }

            await WriteAsync(context, record, answer!, status).ConfigureAwait(false);
        }
        catch (KubeError error)
        {
            await WriteAsync(context, record, error.ToStatus(), error.Code).ConfigureAwait(false);
        }
    }

    private static (int Status, JObject? Answer, string? Text) Dispatch(HttpContext context, KubernetesCluster cluster, string[] segments, string body)
    {
        var request = context.Request;
        var query = request.Query;
        string? group;
        string[] rest;
        if (segments[0] == "openapi")
        {
            throw new KubeError(404, "NotFound", "the server could not find the requested resource");
        }

        if (segments[0] == "api")
        {
            if (segments.Length == 1)
            {
                return Ok(new JObject
                {
                    ["kind"] = "APIVersions",
                    ["versions"] = new JArray("v1"),
                    ["serverAddressByClientCIDRs"] = new JArray(new JObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = context.Request.Host.Value }),
                });
            }

            if (segments[1] != "v1")
            {
                throw NotServed();
            }

            group = null;
            rest = segments[2..];
        }
        else
        {
            if (segments.Length == 1)
            {
                return Ok(new JObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JArray(Groups(cluster).Select(g => g.Group)) });
            }

            var served = Groups(cluster).FirstOrDefault(g => (string?)g.Group["name"] == segments[1]);
            if (served.Group is null)
            {
                throw NotServed();
            }

            if (segments.Length == 2)
            {
                var apiGroup = (JObject)served.Group.DeepClone();
                apiGroup["kind"] = "APIGroup";
                apiGroup["apiVersion"] = "v1";
                return Ok(apiGroup);
            }

            if (segments[2] != (string?)served.Group["preferredVersion"]!["version"])
            {
                throw NotServed();
            }

            group = segments[1];
            rest = segments[3..];
        }

        if (rest.Length == 0)
        {
            return Ok(ResourceList(group));
        }

        var labelSelector = query["labelSelector"].FirstOrDefault();
        var fieldSelector = query["fieldSelector"].FirstOrDefault();
        if (group == "metrics.k8s.io")
        {
            return rest switch
            {
                ["namespaces", var ns, "pods"] => Ok(cluster.PodMetrics(ns, null)),
                ["namespaces", var ns, "pods", var name] => Ok((JObject)((JArray)cluster.PodMetrics(ns, name)["items"]!)[0].Also(m => { m["kind"] = "PodMetrics"; m["apiVersion"] = "metrics.k8s.io/v1beta1"; })),
                _ => throw NotServed(),
            };
        }

        switch (rest)
        {
            case ["namespaces"]:
                return Ok(cluster.List("namespaces", null, labelSelector, fieldSelector));
            case ["namespaces", var name]:
                return Ok(cluster.Get("namespaces", "", name));
            case [var resource]:
                RequireResource(group, resource);
                return Ok(cluster.List(resource, null, labelSelector, fieldSelector));
            case ["namespaces", var ns, var resource]:
                RequireResource(group, resource);
                return request.Method switch
                {
                    "GET" => Ok(cluster.List(resource, ns, labelSelector, fieldSelector)),
                    "POST" => (201, cluster.Create(resource, ns, ParseObject(body), Manager(request)), null),
                    _ => throw MethodNotAllowed(request.Method),
                };
            case ["namespaces", var ns, "pods", var name, "log"]:
                RequireResource(group, "pods");
                if (request.Method != "GET")
                {
                    throw MethodNotAllowed(request.Method);
                }

                return (200, null, cluster.Logs(ns, name, query["container"].FirstOrDefault(), Number(query["tailLines"].FirstOrDefault()), Number(query["sinceSeconds"].FirstOrDefault()), string.Equals(query["timestamps"].FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase)));
            case ["namespaces", var ns, var resource, var name]:
                RequireResource(group, resource);
                return request.Method switch
                {
                    "GET" => Ok(cluster.Get(resource, ns, name)),
                    "PUT" => Ok(cluster.Replace(resource, ns, name, ParseObject(body), Manager(request))),
                    "PATCH" => Ok(cluster.Patch(resource, ns, name, request.ContentType ?? "", body, Manager(request))),
                    "DELETE" => Ok(cluster.Delete(resource, ns, name)),
                    _ => throw MethodNotAllowed(request.Method),
                };
            default:
                throw NotServed();
        }
    }

    private static async Task WatchAsync(HttpContext context, KubeRequest record, KubernetesCluster cluster, string[] segments)
    {
        var (group, ns, resource) = segments switch
        {
            ["api", "v1", "namespaces", var n, var r] => ((string?)null, n, r),
            ["apis", "apps", "v1", "namespaces", var n, var r] => ("apps", n, r),
            _ => throw KubeError.BadRequest("the stand-in watches namespaced collections only"),
        };
        RequireResource(group, resource);
        var query = context.Request.Query;
        long? since = long.TryParse(query["resourceVersion"].FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var rv) && rv > 0 ? rv : null;
        var timeout = Number(query["timeoutSeconds"].FirstOrDefault()) ?? 1800;
        var watcher = cluster.Watch(resource, ns, query["fieldSelector"].FirstOrDefault(), query["labelSelector"].FirstOrDefault(), since);
        record.Status = 200;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.FlushAsync().ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        stop.CancelAfter(TimeSpan.FromSeconds(timeout));
        try
        {
            await foreach (var line in watcher.Events.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                await context.Response.WriteAsync(line + "\n", Encoding.UTF8, stop.Token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The watch's timeout or the client hanging up ends the stream, as on a real server.
        }
        finally
        {
            cluster.Unwatch(watcher);
        }
    }

    private static IEnumerable<(JObject Group, JArray Resources)> Groups(KubernetesCluster cluster)
    {
        yield return (GroupJson("apps", "v1"), ResourceList("apps")["resources"] as JArray ?? new JArray());
        if (cluster.Metrics)
        {
            yield return (GroupJson("metrics.k8s.io", "v1beta1"), ResourceList("metrics.k8s.io")["resources"] as JArray ?? new JArray());
        }
    }

    private static JObject GroupJson(string name, string version)
    {
        var gv = new JObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version };
        return new JObject { ["name"] = name, ["versions"] = new JArray(gv), ["preferredVersion"] = gv.DeepClone() };
    }

    private static JObject ResourceList(string? group)
    {
        static JObject Resource(string name, string kind, bool namespaced, string[] verbs, params string[] shortNames)
        {
            var r = new JObject { ["name"] = name, ["singularName"] = name.Contains('/') ? "" : kind.ToLowerInvariant(), ["namespaced"] = namespaced, ["kind"] = kind, ["verbs"] = new JArray(verbs) };
            if (shortNames.Length > 0)
            {
                r["shortNames"] = new JArray(shortNames);
            }

            return r;
        }

        string[] all = { "create", "delete", "get", "list", "patch", "update", "watch" };
        var (groupVersion, resources) = group switch
        {
            null => ("v1", new JArray(
                Resource("configmaps", "ConfigMap", true, all, "cm"),
                Resource("events", "Event", true, new[] { "get", "list", "watch" }, "ev"),
                Resource("namespaces", "Namespace", false, new[] { "get", "list" }, "ns"),
                Resource("pods", "Pod", true, new[] { "delete", "get", "list", "watch" }, "po"),
                Resource("pods/log", "Pod", true, new[] { "get" }),
                Resource("pods/exec", "PodExecOptions", true, new[] { "create", "get" }))),
            "apps" => ("apps/v1", new JArray(
                Resource("deployments", "Deployment", true, new[] { "get", "list", "patch", "update", "watch" }, "deploy"),
                Resource("replicasets", "ReplicaSet", true, new[] { "get", "list", "watch" }, "rs"))),
            _ => ("metrics.k8s.io/v1beta1", new JArray(Resource("pods", "PodMetrics", true, new[] { "get", "list" }))),
        };
        return new JObject { ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = groupVersion, ["resources"] = resources };
    }

    private static void RequireResource(string? group, string resource)
    {
        var ok = group switch
        {
            null => resource is "configmaps" or "pods" or "events",
            "apps" => resource is "deployments" or "replicasets",
            _ => false,
        };
        if (!ok)
        {
            throw NotServed();
        }
    }

    /// <summary>The field manager: the fieldManager parameter, else the client's program name from its User-Agent, as the API server does.</summary>
    private static string Manager(HttpRequest request)
        => request.Query["fieldManager"].FirstOrDefault() is { Length: > 0 } named ? named
            : request.Headers.UserAgent.ToString().Split('/')[0] is { Length: > 0 } agent ? agent : "unknown";

    private static bool IsWatch(HttpRequest request)
        => request.Query["watch"].FirstOrDefault() is "true" or "1";

    private static KubeError NotServed() => new(404, "NotFound", "the server could not find the requested resource");

    private static KubeError MethodNotAllowed(string method) => new(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})");

    private static JObject ParseObject(string body)
    {
        try
        {
            return JToken.Parse(body) as JObject ?? throw KubeError.BadRequest("the body of the request is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw KubeError.BadRequest($"couldn't get version/kind; json parse error: {ex.Message}");
        }
    }

    private static int? Number(string? text)
        => string.IsNullOrEmpty(text) ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n
            : throw KubeError.BadRequest($"invalid number '{text}'");

    private static (int, JObject?, string?) Ok(JObject answer) => (200, answer, null);

    private static async Task WriteAsync(HttpContext context, KubeRequest record, JObject answer, int status)
    {
        record.Status = status;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToString(Formatting.None), Encoding.UTF8).ConfigureAwait(false);
    }

    private static async Task<JObject> ReadJsonAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync().ConfigureAwait(false);
        return text.Length == 0 ? new JObject() : JObject.Parse(text);
    }

    private static IResult Json(JObject o) => Results.Content(o.ToString(Formatting.None), "application/json", Encoding.UTF8, 200);

    private static IResult Answer(Func<JObject> produce)
    {
        try
        {
            return Json(produce());
        }
        catch (KubeError error)
        {
            return Results.Content(error.ToStatus().ToString(Formatting.None), "application/json", Encoding.UTF8, error.Code);
        }
    }
}

/// <summary>A small fluent helper for building answers inline.</summary>
internal static class JTokenExtensions
{
    public static JObject Also(this JToken token, Action<JObject> change)
    {
        var o = (JObject)token;
        change(o);
        return o;
    }
}
