using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Notifications;

/// <summary>
/// Stand-ins for the services notifications go to, refusing what they refuse:
/// a Slack incoming webhook (<c>POST /services/T0/B0/{secret}</c>: 404 no_service for another path, 400 invalid_payload
/// for a body that is not JSON, 400 no_text without text, "ok" otherwise), a Teams incoming webhook
/// (<c>POST /webhookb2/{secret}</c>: 400 unless a MessageCard with a title or text, "1" otherwise), a generic webhook
/// (<c>POST /hooks/{secret}</c>: 400 unless event, flag, environment, subject and body are strings), and Grafana's
/// <c>POST /grafana/api/annotations</c> (401 without the bearer token, 400 unless text and string tags, and time in ms).
/// Knobs (no auth): POST /_control/mode {"mode":"ok"|"hang"|"500"} (hang holds every receiver's answer until the mode
/// changes or the client gives up), GET /_control/received (what was accepted or refused, the Authorization header
/// reduced to present/absent), POST /_control/shutdown.
/// </summary>
public sealed class NotificationReceiversStandIn : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly object gate = new();
    private readonly List<JObject> received = new();
    private string mode = "ok";
    private TaskCompletionSource modeChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NotificationReceiversStandIn(WebApplication app, Uri baseUri)
    {
        this.app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public static async Task<NotificationReceiversStandIn> StartAsync(string secret, string token, int port = 0, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(NotificationReceiversStandIn).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        NotificationReceiversStandIn? standIn = null;

        app.MapPost("/services/{team}/{bot}/{key}", async (HttpContext context, string team, string bot, string key) =>
            await standIn!.ReceiveAsync(context, "slack", async body =>
            {
                if (key != secret)
                {
                    return Results.Text("no_service", statusCode: 404);
                }

                if (body is null)
                {
                    return Results.Text("invalid_payload", statusCode: 400);
                }

                return body["text"] is JValue { Type: JTokenType.String } text && ((string?)text)!.Length > 0
                    ? Results.Text("ok")
                    : Results.Text("no_text", statusCode: 400);
            }));
        app.MapPost("/webhookb2/{key}", async (HttpContext context, string key) =>
            await standIn!.ReceiveAsync(context, "teams", async body =>
            {
                if (key != secret)
                {
                    return Results.Text("Invalid webhook URL", statusCode: 404);
                }

                var card = body is not null && (string?)body["@type"] == "MessageCard"
                    && (IsText(body["title"]) || IsText(body["text"]));
                return card ? Results.Text("1") : Results.Text("Summary or Text is required.", statusCode: 400);
            }));
        app.MapPost("/hooks/{key}", async (HttpContext context, string key) =>
            await standIn!.ReceiveAsync(context, "webhook", async body =>
            {
                if (key != secret)
                {
                    return Results.Json(new { error = "unknown hook" }, statusCode: 404);
                }

                var complete = body is not null && new[] { "event", "flag", "environment", "subject", "body" }.All(f => IsText(body[f]));
                return complete ? Results.Json(new { received = true }) : Results.Json(new { error = "event, flag, environment, subject and body are required strings" }, statusCode: 400);
            }));
        // Typed as a Delegate: a bare HttpContext lambda would bind as a RequestDelegate, and its IResult be dropped.
        app.MapPost("/grafana/api/annotations", (Func<HttpContext, Task<IResult>>)(async context =>
            await standIn!.ReceiveAsync(context, "grafana", async body =>
            {
                if (context.Request.Headers.Authorization.ToString() != "Bearer " + token)
                {
                    return Results.Json(new { message = "Unauthorized" }, statusCode: 401);
                }

                var valid = body is not null && IsText(body["text"])
                    && body["tags"] is JArray tags && tags.All(t => t.Type == JTokenType.String)
                    && (body["time"] is null || body["time"]!.Type == JTokenType.Integer);
                return valid ? Results.Json(new { id = standIn!.Count("grafana"), message = "Annotation added" }) : Results.Json(new { message = "bad request data" }, statusCode: 400);
            })));
        app.MapPost("/_control/mode", async (HttpContext context) =>
        {
            var body = JObject.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync());
            var next = (string?)body["mode"] ?? "ok";
            if (next is not ("ok" or "hang" or "500"))
            {
                return Results.Json(new { error = "mode is ok, hang or 500" }, statusCode: 400);
            }

            standIn!.SetMode(next);
            return Results.Json(new { mode = next });
        });
        app.MapGet("/_control/received", () => Results.Text(standIn!.ReceivedJson(), "application/json"));
        app.MapPost("/_control/shutdown", (IHostApplicationLifetime lifetime) =>
        {
            standIn!.SetMode("ok");
            lifetime.StopApplication();
            return Results.Ok();
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        standIn = new NotificationReceiversStandIn(app, new Uri(app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal))));
        return standIn;
    }

    private static bool IsText(JToken? token) => token is JValue { Type: JTokenType.String } value && ((string?)value)!.Length > 0;

    private void SetMode(string next)
    {
        lock (gate)
        {
            mode = next;
            modeChanged.TrySetResult();
            modeChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private int Count(string receiver)
    {
        lock (gate)
        {
            return received.Count(r => (string?)r["receiver"] == receiver);
        }
    }

    private async Task<IResult> ReceiveAsync(HttpContext context, string receiver, Func<JObject?, Task<IResult>> answer)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync();
        JObject? body;
        try
        {
            body = JToken.Parse(text) as JObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        var record = new JObject
        {
            ["receiver"] = receiver,
            ["path"] = context.Request.Path.Value,
            ["content_type"] = context.Request.ContentType,
            ["authorization"] = context.Request.Headers.Authorization.Count > 0 ? "present" : "absent",
            ["body"] = body ?? (JToken)text,
            ["at"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        string current;
        Task changed;
        lock (gate)
        {
            current = mode;
            changed = modeChanged.Task;
        }

        if (current == "hang")
        {
            record["answer"] = "hung";
            Record(record);
            // Held until the mode changes or the client gives up.
            await Task.WhenAny(changed, Task.Delay(Timeout.Infinite, context.RequestAborted)).ConfigureAwait(false);
            return Results.Text("late", statusCode: 200);
        }

        if (current == "500")
        {
            record["answer"] = 500;
            Record(record);
            return Results.Json(new { error = "internal error" }, statusCode: 500);
        }

        var result = await answer(body).ConfigureAwait(false);
        record["answer"] = (result as IStatusCodeHttpResult)?.StatusCode ?? 200;
        Record(record);
        return result;
    }

    private void Record(JObject record)
    {
        lock (gate)
        {
            received.Add(record);
        }
    }

    private string ReceivedJson()
    {
        lock (gate)
        {
            return new JArray(received).ToString(Formatting.None);
        }
    }

    /// <summary>Console entry: <c>notifications [--secret S] [--token T] [--port N]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string secret = "test-webhook-secret", token = "grafana-test-token";
        var port = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--secret": secret = Next(); break;
                case "--token": token = Next(); break;
                case "--port": port = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        await using var standIn = await StartAsync(secret, token, port).ConfigureAwait(false);
        Console.Out.WriteLine($"LISTENING {standIn.BaseUri.GetLeftPart(UriPartial.Authority)}");
        Console.Out.Flush();
        await standIn.app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        SetMode("ok");
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
