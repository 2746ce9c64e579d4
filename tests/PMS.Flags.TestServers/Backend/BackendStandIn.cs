using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Backend;

/// <summary>
/// A stand-in for the PMS backend: <c>/health</c>, <c>/api/v1/feature-flags/status</c> (bearer token required, like the
/// real API) reading the same feature_flags.json the module writes, and <c>/metrics</c> whose error rate and latency
/// follow the flag's exposure, labelled by the variant each request got. Control API (no auth): POST /_control/fault
/// {"faulty":bool,"errorRate":n,"latencySeconds":n,"baseErrorRate":n,"cohortErrorRate":n,"cohortSlowRate":n,"rps":n}
/// (cohortErrorRate/cohortSlowRate: the share of EXPOSED requests that fail / are slow; every field optional),
/// POST /_control/health {"healthy":bool, "holdUntil":n}, GET /_control/state, POST /_control/shutdown. With holdUntil, the
/// next /health requests are held until n of them are in flight, then answered together: two guardrail evaluations
/// are then provably at the same time (the state's healthReleasedTogether says how many were released at once).
/// </summary>
public sealed class BackendStandIn : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource ticking = new();
    private readonly Task ticker;

    private BackendStandIn(WebApplication app, BackendStandInOptions options, TrafficSimulator traffic, Uri baseUri)
    {
        this.app = app;
        Options = options;
        Traffic = traffic;
        BaseUri = baseUri;
        ticker = Task.Run(TickAsync);
    }

    public Uri BaseUri { get; }

    public BackendStandInOptions Options { get; }

    public TrafficSimulator Traffic { get; }

    public bool Healthy { get; set; } = true;

    private readonly object healthGate = new();
    private int holdHealthUntil;
    private int healthArrived;
    private int healthReleasedTogether;
    private TaskCompletionSource healthRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Holds the next /health requests until <paramref name="count"/> are in flight (0 answers at once again).</summary>
    public void HoldHealthUntil(int count)
    {
        lock (healthGate)
        {
            holdHealthUntil = count;
            healthArrived = 0;
            healthReleasedTogether = 0;
            healthRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public int HealthReleasedTogether
    {
        get
        {
            lock (healthGate)
            {
                return healthReleasedTogether;
            }
        }
    }

    private async Task PassHealthGateAsync()
    {
        Task release;
        lock (healthGate)
        {
            if (holdHealthUntil <= 0)
            {
                return;
            }

            healthArrived++;
            release = healthRelease.Task;
            if (healthArrived >= holdHealthUntil)
            {
                healthReleasedTogether = healthArrived;
                holdHealthUntil = 0;
                healthRelease.TrySetResult();
            }
        }

        // A generous wait: a request that never gets company is answered anyway, and healthReleasedTogether stays 0.
        await Task.WhenAny(release, Task.Delay(TimeSpan.FromSeconds(20))).ConfigureAwait(false);
    }

    public static async Task<BackendStandIn> StartAsync(BackendStandInOptions options, CancellationToken cancellationToken = default)
    {
        var traffic = new TrafficSimulator(options, DateTimeOffset.UtcNow);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(BackendStandIn).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port);
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        BackendStandIn? standIn = null;
        app.MapGet("/health", async () =>
        {
            await standIn!.PassHealthGateAsync().ConfigureAwait(false);
            return standIn.Healthy
                ? Results.Json(new { status = "ok" })
                : Results.Json(new { status = "unavailable" }, statusCode: 503);
        });
        app.MapGet("/metrics", () =>
        {
            standIn!.AdvanceTraffic();
            return Results.Text(traffic.RenderMetrics(), "text/plain; version=0.0.4");
        });
        app.MapGet("/api/v1/feature-flags/status", (HttpContext context) =>
        {
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + options.Token)
            {
                return Results.Json(new { error = "unauthorized", message = "A valid bearer token is required." }, statusCode: 401);
            }

            return Results.Text(standIn!.FlagStatusJson(), "application/json");
        });
        app.MapPost("/_control/fault", async (HttpContext context) =>
        {
            var body = JObject.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync());
            foreach (var share in new[] { "errorRate", "baseErrorRate", "cohortErrorRate", "cohortSlowRate" })
            {
                if (body[share] is { } value && ((double)value < 0 || (double)value > 1))
                {
                    return Results.Json(new { error = "invalid_fault", message = $"{share} is a share of requests, between 0 and 1." }, statusCode: 400);
                }
            }

            if (body["rps"] is { } rps && (double)rps < 0)
            {
                return Results.Json(new { error = "invalid_fault", message = "rps must be zero or more." }, statusCode: 400);
            }

            standIn!.AdvanceTraffic();
            traffic.FeatureFaulty = (bool?)body["faulty"] ?? traffic.FeatureFaulty;
            traffic.FaultErrorRate = (double?)body["errorRate"] ?? traffic.FaultErrorRate;
            traffic.FaultLatencySeconds = (double?)body["latencySeconds"] ?? traffic.FaultLatencySeconds;
            traffic.BaseErrorRate = (double?)body["baseErrorRate"] ?? traffic.BaseErrorRate;
            traffic.CohortErrorRate = (double?)body["cohortErrorRate"] ?? traffic.CohortErrorRate;
            traffic.CohortSlowRate = (double?)body["cohortSlowRate"] ?? traffic.CohortSlowRate;
            traffic.RequestsPerSecond = (double?)body["rps"] ?? traffic.RequestsPerSecond;
            return Results.Json(new { faulty = traffic.FeatureFaulty, cohortErrorRate = traffic.CohortErrorRate, cohortSlowRate = traffic.CohortSlowRate, baseErrorRate = traffic.BaseErrorRate, rps = traffic.RequestsPerSecond });
        });
        app.MapPost("/_control/health", async (HttpContext context) =>
        {
            var body = JObject.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync());
            standIn!.Healthy = (bool?)body["healthy"] ?? true;
            if (body["holdUntil"] is { Type: JTokenType.Integer } holdUntil)
            {
                standIn.HoldHealthUntil((int)holdUntil);
            }

            return Results.Json(new { healthy = standIn.Healthy });
        });
        app.MapGet("/_control/state", () => Results.Json(new { exposure = standIn!.Exposure(), faulty = traffic.FeatureFaulty, healthy = standIn.Healthy, healthReleasedTogether = standIn.HealthReleasedTogether }));
        app.MapPost("/_control/shutdown", (IHostApplicationLifetime lifetime) =>
        {
            lifetime.StopApplication();
            return Results.Ok();
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal));
        standIn = new BackendStandIn(app, options, traffic, new Uri(address));
        return standIn;
    }

    /// <summary>Console entry: <c>backend --flag-file F --flag K --environment E [--token T] [--rps N] [--faulty] [--port N]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string? file = null, flag = null, environment = null, token = null;
        double rps = 200;
        var faulty = false;
        var port = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--flag-file": file = Next(); break;
                case "--flag": flag = Next(); break;
                case "--environment": environment = Next(); break;
                case "--token": token = Next(); break;
                case "--rps": rps = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--faulty": faulty = true; break;
                case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        if (file is null || flag is null || environment is null)
        {
            throw new ArgumentException("--flag-file, --flag and --environment are required.");
        }

        await using var standIn = await StartAsync(new BackendStandInOptions
        {
            FlagFile = Path.GetFullPath(file),
            Flag = flag,
            Environment = environment,
            Token = token ?? "backend-test-token",
            RequestsPerSecond = rps,
            FeatureFaulty = faulty,
            Port = port,
        }).ConfigureAwait(false);
        Console.Out.WriteLine($"LISTENING {standIn.BaseUri.GetLeftPart(UriPartial.Authority)}");
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
    }

    /// <summary>The flag's effective exposure as the backend would read it now; unreadable documents count as 0, as a cautious backend would.</summary>
    public double Exposure()
    {
        try
        {
            var root = JObject.Parse(File.ReadAllText(Options.FlagFile));
            var value = root[Options.Environment]?[Options.Flag];
            return value switch
            {
                JValue { Type: JTokenType.Boolean } b => (bool)b ? 100 : 0,
                JObject o when (bool?)o["enabled"] == true => (double?)o["rollout_percentage"] ?? 100,
                _ => 0,
            };
        }
        catch (Exception ex) when (ex is IOException or Newtonsoft.Json.JsonException)
        {
            return 0;
        }
    }

    private string FlagStatusJson()
    {
        var root = JObject.Parse(File.ReadAllText(Options.FlagFile));
        return new JObject
        {
            ["environment"] = Options.Environment,
            ["flags"] = root[Options.Environment] ?? new JObject(),
        }.ToString(Newtonsoft.Json.Formatting.None);
    }

    private void AdvanceTraffic() => Traffic.Advance(DateTimeOffset.UtcNow, Exposure());

    // Exposure can change between scrapes; advancing often keeps the counters close to what a real backend would show.
    private async Task TickAsync()
    {
        while (!ticking.IsCancellationRequested)
        {
            AdvanceTraffic();
            try
            {
                await Task.Delay(100, ticking.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
