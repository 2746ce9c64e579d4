using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// An honest stand-in for the LaunchDarkly REST API v2 subset PMS.Flags uses (see shared/reference/launchdarkly-api.md,
/// "What the stand-in must do"). It listens on 127.0.0.1, requires the Authorization header, validates semantic and JSON
/// patches like the service, honours dryRun, keeps an audit list and a request log, and injects faults on demand.
/// <para>Control API (no auth): POST/GET/DELETE /_control/faults, GET/DELETE /_control/requests, GET /_control/audit,
/// GET /_control/flags/{project}/{flag}, POST/GET /_control/pending-changes ({"project","flag","environment","kind"}:
/// a pending scheduled change or approval request that a conflicting PATCH would break), POST /_control/reset,
/// POST /_control/shutdown.</para>
/// </summary>
public sealed partial class LaunchDarklyStandIn : IAsyncDisposable
{
    private const string BodyKey = "standin.body";
    private const string RecordKey = "standin.record";
    private readonly WebApplication app;

    private LaunchDarklyStandIn(WebApplication app, LaunchDarklyStandInState state, Uri baseUri)
    {
        this.app = app;
        State = state;
        BaseUri = baseUri;
    }

    /// <summary>http://127.0.0.1:PORT</summary>
    public Uri BaseUri { get; }

    public LaunchDarklyStandInState State { get; }

    public static async Task<LaunchDarklyStandIn> StartAsync(LaunchDarklyStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LaunchDarklyStandInOptions();
        var state = new LaunchDarklyStandInState(options.SeedJson, options.UnknownEnvironmentIs404);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(LaunchDarklyStandIn).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port);
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        Configure(app, state, options);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal));
        return new LaunchDarklyStandIn(app, state, new Uri(address));
    }

    /// <summary>Console entry: <c>launchdarkly --token T [--read-only-token T2] [--seed FILE] [--port N] [--unknown-environment-404]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string? token = null, readOnlyToken = null, seed = null;
        var port = 0;
        var unknownEnvironmentIs404 = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--token":
                    token = Next();
                    break;
                case "--read-only-token":
                    readOnlyToken = Next();
                    break;
                case "--seed":
                    seed = File.ReadAllText(Next());
                    break;
                case "--unknown-environment-404":
                    unknownEnvironmentIs404 = true;
                    break;
                case "--port":
                    port = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        if (string.IsNullOrEmpty(token))
        {
            throw new ArgumentException("--token is required.");
        }

        await using var standIn = await StartAsync(new LaunchDarklyStandInOptions { Token = token, ReadOnlyToken = readOnlyToken, SeedJson = seed, Port = port, UnknownEnvironmentIs404 = unknownEnvironmentIs404 }).ConfigureAwait(false);
        Console.Out.WriteLine($"LISTENING {standIn.BaseUri.GetLeftPart(UriPartial.Authority)}");
        Console.Out.Flush();
        await standIn.app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    private static void Configure(WebApplication app, LaunchDarklyStandInState state, LaunchDarklyStandInOptions options)
    {
        app.Use((context, next) => ApiGateAsync(context, next, state, options));

        app.MapGet("/api/v2/flags/{projectKey}/{flagKey}", (HttpContext c, string projectKey, string flagKey)
            => Answer(() => state.GetFlag(projectKey, flagKey, c.Request.Query["env"].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray())));

        app.MapGet("/api/v2/flags/{projectKey}", (HttpContext c, string projectKey) => Answer(() =>
        {
            var query = c.Request.Query;
            var environments = query["env"].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
            var limit = Int(query["limit"], 20);
            var offset = Int(query["offset"], 0);
            var summary = !(query["summary"] == "0" || string.Equals(query["summary"], "false", StringComparison.OrdinalIgnoreCase));
            var kept = string.Join("&", query.Where(p => p.Key != "offset" && p.Key != "limit").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}")).Prepend($"limit={limit}"));
            return state.ListFlags(projectKey, environments, summary, limit, offset, kept);
        }));

        app.MapMethods("/api/v2/flags/{projectKey}/{flagKey}", new[] { "PATCH" }, (HttpContext c, string projectKey, string flagKey)
            => Answer(() => state.Patch(projectKey, flagKey, c.Request.ContentType, (string)c.Items[BodyKey]!,
                string.Equals(c.Request.Query["dryRun"], "true", StringComparison.OrdinalIgnoreCase),
                string.Equals(c.Request.Query["ignoreConflicts"], "true", StringComparison.OrdinalIgnoreCase))));

        app.MapGet("/api/v2/flag-statuses/{projectKey}/{environmentKey}/{flagKey}", (string projectKey, string environmentKey, string flagKey)
            => Answer(() => state.GetFlagStatus(projectKey, environmentKey, flagKey)));

        app.MapGet("/api/v2/projects/{projectKey}", (HttpContext c, string projectKey)
            => Answer(() => state.GetProject(projectKey, c.Request.Query["expand"].Any(v => v?.Split(',').Contains("environments") == true))));

        app.MapGet("/api/v2/projects/{projectKey}/environments", (HttpContext c, string projectKey)
            => Answer(() => state.ListEnvironments(projectKey, Int(c.Request.Query["limit"], 20), Int(c.Request.Query["offset"], 0))));

        // Control API: for tests only, no auth, never logged or faulted.
        app.MapPost("/_control/faults", async (HttpContext c) =>
        {
            using var reader = new StreamReader(c.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync().ConfigureAwait(false);
            return Answer(() =>
            {
                var token = JToken.Parse(text);
                var specs = token is JArray array ? array.ToObject<List<FaultSpec>>()! : new List<FaultSpec> { token.ToObject<FaultSpec>()! };
                foreach (var spec in specs)
                {
                    state.Faults.Add(spec);
                }

                return new JObject { ["pending"] = state.Faults.Snapshot() };
            });
        });
        app.MapGet("/_control/faults", () => Answer(() => new JObject { ["pending"] = state.Faults.Snapshot() }));
        app.MapDelete("/_control/faults", () => Answer(() =>
        {
            state.Faults.Clear();
            return new JObject { ["pending"] = new JArray() };
        }));
        app.MapGet("/_control/requests", () => Answer(() => new JObject { ["items"] = JArray.FromObject(state.Requests) }));
        app.MapDelete("/_control/requests", () => Answer(() =>
        {
            state.ClearRequests();
            return new JObject { ["items"] = new JArray() };
        }));
        app.MapPost("/_control/pending-changes", async (HttpContext c) =>
        {
            using var reader = new StreamReader(c.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync().ConfigureAwait(false);
            return Answer(() =>
            {
                var spec = JObject.Parse(text);
                return state.AddPendingChange((string?)spec["project"] ?? "", (string?)spec["flag"] ?? "", (string?)spec["environment"] ?? "", (string?)spec["kind"] ?? "scheduledChange");
            });
        });
        app.MapGet("/_control/pending-changes", () => Answer(() => new JObject { ["items"] = state.PendingChanges() }));
        app.MapGet("/_control/audit", () => Answer(() => new JObject { ["items"] = JArray.FromObject(state.Audit) }));
        app.MapGet("/_control/flags/{projectKey}/{flagKey}", (string projectKey, string flagKey)
            => Answer(() => state.PeekFlag(projectKey, flagKey) ?? throw StandInError.NotFound($"Unknown flag '{projectKey}/{flagKey}'.")));
        app.MapPost("/_control/reset", () => Answer(() =>
        {
            state.Reset();
            return new JObject { ["reset"] = true };
        }));
        app.MapPost("/_control/shutdown", (HttpContext c) =>
        {
            var lifetime = c.RequestServices.GetService(typeof(Microsoft.Extensions.Hosting.IHostApplicationLifetime)) as Microsoft.Extensions.Hosting.IHostApplicationLifetime;
            _ = Task.Run(async () =>
            {
                await Task.Delay(100).ConfigureAwait(false);
                lifetime?.StopApplication();
            });
            return Answer(() => new JObject { ["stopping"] = true });
        });

        app.MapFallback(() => Error(StandInError.NotFound("No such resource.")));
    }

    /// <summary>
    /// In front of every /api request: log it (without the Authorization value), apply the rate-limit window and any
    /// queued fault, check Authorization and LD-API-Version, then let the endpoint answer into a buffer so an "after"
    /// fault can still drop or replace the answer.
    /// </summary>
    private static async Task ApiGateAsync(HttpContext context, Func<Task> next, LaunchDarklyStandInState state, LaunchDarklyStandInOptions options)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next().ConfigureAwait(false);
            return;
        }

        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        context.Items[BodyKey] = body;
        var presented = context.Request.Headers.Authorization.ToString();
        var authorization = string.IsNullOrEmpty(presented) ? "missing"
            : presented == options.Token ? "valid"
            : options.ReadOnlyToken is not null && presented == options.ReadOnlyToken ? "read-only"
            : "invalid";
        var record = state.Record(sequence => new RecordedRequest
        {
            Sequence = sequence,
            Time = DateTimeOffset.UtcNow,
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "",
            Query = context.Request.QueryString.Value ?? "",
            Headers = context.Request.Headers
                .Where(h => !string.Equals(h.Key, "Authorization", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Authorization = authorization,
            Body = body.Length == 0 ? null : body,
        });
        context.Items[RecordKey] = record;

        var now = DateTimeOffset.UtcNow;
        if (state.Faults.ActiveRateLimit(now) is { } window)
        {
            record.Early = true;
            record.Fault = "429-window";
            await WriteRateLimitedAsync(context, record, window.Until, window.Header).ConfigureAwait(false);
            return;
        }

        var fault = state.Faults.Take(context.Request.Method, record.Path);
        record.Fault = fault?.Kind;
        if (fault is not null && fault.Phase == "before")
        {
            switch (fault.Kind)
            {
                case "429-reset":
                {
                    var until = now.AddMilliseconds(fault.ResetMs);
                    state.Faults.RateLimit(until, "X-Ratelimit-Reset");
                    await WriteRateLimitedAsync(context, record, until, "X-Ratelimit-Reset").ConfigureAwait(false);
                    return;
                }

                case "429-retry-after":
                {
                    var until = now.AddSeconds(fault.RetryAfterSeconds);
                    state.Faults.RateLimit(until, "Retry-After");
                    await WriteRateLimitedAsync(context, record, until, "Retry-After").ConfigureAwait(false);
                    return;
                }

                case "500" or "502" or "503" or "504":
                    record.Status = int.Parse(fault.Kind, CultureInfo.InvariantCulture);
                    await WriteErrorAsync(context, ServerError(record.Status)).ConfigureAwait(false);
                    return;
                case "409":
                    record.Status = 409;
                    await WriteErrorAsync(context, new StandInError(409, "optimistic_locking_error", "A concurrent change won; retry.")).ConfigureAwait(false);
                    return;
                case "drop":
                    record.Status = 0;
                    context.Abort();
                    return;
                case "delay":
                    await Task.Delay(fault.DelayMs, CancellationToken.None).ConfigureAwait(false);
                    break;
            }
        }

        if (authorization is "missing" or "invalid")
        {
            record.Status = 401;
            await WriteErrorAsync(context, new StandInError(401, "unauthorized", authorization == "missing" ? "Missing Authorization header." : "Invalid access token.")).ConfigureAwait(false);
            return;
        }

        if (authorization == "read-only" && !HttpMethods.IsGet(context.Request.Method))
        {
            record.Status = 403;
            await WriteErrorAsync(context, new StandInError(403, "forbidden", "Access to the requested resource was denied.")).ConfigureAwait(false);
            return;
        }

        var apiVersion = context.Request.Headers["LD-API-Version"].ToString();
        if (apiVersion.Length > 0 && !ApiVersionPattern().IsMatch(apiVersion))
        {
            record.Status = 400;
            await WriteErrorAsync(context, StandInError.Invalid($"Invalid LD-API-Version '{apiVersion}': expected yyyymmdd.")).ConfigureAwait(false);
            return;
        }

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next().ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
        }

        if (fault is { Phase: "after", Kind: "drop" })
        {
            record.Status = 0;
            context.Abort();
            return;
        }

        if (fault is { Phase: "after", Kind: "500" or "502" or "503" or "504" })
        {
            record.Status = int.Parse(fault.Kind, CultureInfo.InvariantCulture);
            context.Response.Clear();
            await WriteErrorAsync(context, ServerError(record.Status)).ConfigureAwait(false);
            return;
        }

        record.Status = context.Response.StatusCode;
        buffer.Position = 0;
        await buffer.CopyToAsync(original).ConfigureAwait(false);
    }

    private static StandInError ServerError(int status) => new(status, status == 503 ? "service_unavailable" : "internal_server_error", "Injected server error.");

    private static async Task WriteRateLimitedAsync(HttpContext context, RecordedRequest record, DateTimeOffset until, string header)
    {
        record.Status = 429;
        var response = context.Response;
        response.Headers["X-Ratelimit-Global-Remaining"] = "0";
        response.Headers["X-Ratelimit-Route-Remaining"] = "0";
        if (header == "Retry-After")
        {
            var seconds = Math.Max(0, (int)Math.Ceiling((until - DateTimeOffset.UtcNow).TotalSeconds));
            response.Headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            response.Headers["X-Ratelimit-Reset"] = until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        await WriteErrorAsync(context, new StandInError(429, "rate_limited", "You have made too many requests; slow down.")).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext context, StandInError error)
    {
        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(ErrorBody(error).ToString(Formatting.None), Encoding.UTF8).ConfigureAwait(false);
    }

    private static JObject ErrorBody(StandInError error)
        => new() { ["code"] = error.Code, ["message"] = error.Message, ["id"] = Guid.NewGuid().ToString("N")[..20] };

    private static IResult Answer(Func<JToken> produce)
    {
        try
        {
            return Results.Content(produce().ToString(Formatting.None), "application/json", Encoding.UTF8, 200);
        }
        catch (StandInError error)
        {
            return Error(error);
        }
        catch (JsonException ex)
        {
            return Error(StandInError.Invalid(ex.Message));
        }
    }

    private static IResult Error(StandInError error)
        => Results.Content(ErrorBody(error).ToString(Formatting.None), "application/json", Encoding.UTF8, error.Status);

    private static int Int(Microsoft.Extensions.Primitives.StringValues value, int fallback)
        => value.Count == 0 || string.IsNullOrEmpty(value[0]) ? fallback
            : int.TryParse(value[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
            : throw StandInError.Invalid($"'{value[0]}' is not a number.");

    [GeneratedRegex("^[0-9]{8}$")]
    private static partial Regex ApiVersionPattern();
}
