using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security;
using System.Text;
using Newtonsoft.Json;
using Polly;
using Polly.Timeout;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A small typed client for the LaunchDarkly REST API v2 endpoints PMS.Flags uses: get a flag in one environment,
/// list flags (paged), flag status, project and environments, and semantic patch (optionally as a dry run).
/// Every request carries <c>Authorization: &lt;token&gt;</c> (no Bearer prefix) and <c>LD-API-Version: 20240415</c>,
/// and goes through one Polly resilience pipeline within a time budget. Failures surface as
/// <see cref="FlagsException"/> with the ErrorIds in <see cref="LaunchDarklyErrorIds"/>.
/// </summary>
public sealed class LaunchDarklyClient : IDisposable
{
    public const string ApiVersion = "20240415";
    public const string SemanticPatchContentType = "application/json; domain-model=launchdarkly.semanticpatch";
    public static readonly Uri DefaultBaseUri = new("https://app.launchdarkly.com");
    private const int MaxPages = 10_000;
    private static readonly string UserAgent = $"PMS.Flags/{typeof(LaunchDarklyClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0"}";

    private readonly HttpClient http;
    private readonly LaunchDarklyAccessToken token;
    private readonly ResiliencePipeline pipeline;
    private readonly IOperationLog log;
    private readonly string root;

    /// <param name="baseUri">https://app.launchdarkly.com, a federal or EU host, or (tests) a loopback http URI.</param>
    /// <param name="token">Copied; the caller keeps (and disposes) its own instance.</param>
    /// <param name="handler">For tests or proxies; not disposed by the client.</param>
    public LaunchDarklyClient(Uri baseUri, LaunchDarklyAccessToken token, LaunchDarklyClientOptions? options = null, IOperationLog? log = null, HttpMessageHandler? handler = null)
        : this(ValidateBaseUri(baseUri), (token ?? throw new ArgumentNullException(nameof(token))).Copy(), options, log, handler, owned: true)
    {
    }

    /// <param name="token">Copied into a read-only SecureString; the caller keeps (and disposes) its own instance.</param>
    public LaunchDarklyClient(Uri baseUri, SecureString token, LaunchDarklyClientOptions? options = null, IOperationLog? log = null, HttpMessageHandler? handler = null)
        : this(ValidateBaseUri(baseUri), new LaunchDarklyAccessToken(token ?? throw new ArgumentNullException(nameof(token))), options, log, handler, owned: true)
    {
    }

    // Takes ownership of ownedToken. The base URI is validated before any token is copied.
    private LaunchDarklyClient(Uri validatedBaseUri, LaunchDarklyAccessToken ownedToken, LaunchDarklyClientOptions? options, IOperationLog? log, HttpMessageHandler? handler, bool owned)
    {
        Debug.Assert(owned, "the client always owns the token it is given here");
        BaseUri = validatedBaseUri;
        token = ownedToken;
        Options = options ?? new LaunchDarklyClientOptions();
        this.log = log ?? NullOperationLog.Instance;
        root = BaseUri.GetLeftPart(UriPartial.Authority) + BaseUri.AbsolutePath.TrimEnd('/');
        http = handler is null
            ? new HttpClient(CreateHandler(), disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's attempt timeout and budget govern time
        pipeline = LaunchDarklyRetryPipeline.Build(Options, this.log);
    }

    public Uri BaseUri { get; }

    public LaunchDarklyClientOptions Options { get; }

    /// <summary>
    /// Refuses anything but an absolute https URI, or http to a loopback host (127.0.0.0/8, ::1, localhost) for test
    /// servers: the token must never cross a network in clear text.
    /// </summary>
    public static Uri ValidateBaseUri(Uri? baseUri)
    {
        if (baseUri is null || !baseUri.IsAbsoluteUri)
        {
            throw new FlagsException(LaunchDarklyErrorIds.InvalidBaseUri, FlagsErrorKind.InvalidArgument, "The LaunchDarkly base URI must be an absolute URI such as https://app.launchdarkly.com.");
        }

        if (!string.IsNullOrEmpty(baseUri.UserInfo))
        {
            throw new FlagsException(LaunchDarklyErrorIds.InvalidBaseUri, FlagsErrorKind.InvalidArgument, $"The LaunchDarkly base URI for host '{baseUri.Host}' must not carry user information; pass the access token with -ApiKey or LD_API_KEY.");
        }

        if (baseUri.Scheme == Uri.UriSchemeHttps)
        {
            return baseUri;
        }

        if (baseUri.Scheme == Uri.UriSchemeHttp)
        {
            if (IsLoopback(baseUri))
            {
                return baseUri;
            }

            throw new FlagsException(LaunchDarklyErrorIds.InsecureBaseUri, FlagsErrorKind.InvalidArgument, $"Refusing to send the LaunchDarkly access token over plain http to '{baseUri.Host}': use https (http is allowed only to a loopback host such as 127.0.0.1 or localhost, for test servers).", baseUri.Host);
        }

        throw new FlagsException(LaunchDarklyErrorIds.InvalidBaseUri, FlagsErrorKind.InvalidArgument, $"The LaunchDarkly base URI must use https, not '{baseUri.Scheme}'.", baseUri.Scheme);
    }

    /// <summary><c>GET /api/v2/flags/{projectKey}/{flagKey}?env={environmentKey}</c>; the flag's environments hold exactly that environment.</summary>
    public async Task<LdFlag> GetFlagAsync(string projectKey, string flagKey, string environmentKey, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var request = FlagRead(projectKey, flagKey, environmentKey);
        LdFlag flag;
        try
        {
            flag = await SendAsync<LdFlag>(request, budget, cancellationToken).ConfigureAwait(false);
        }
        catch (LaunchDarklyHttpFailure failure)
        {
            throw await ResolveNotFoundAsync(request, failure, budget, cancellationToken).ConfigureAwait(false);
        }

        // LaunchDarkly filters environments by `env`; an unknown environment is simply absent from the answer.
        if (!flag.Environments.ContainsKey(environmentKey))
        {
            throw await EnvironmentNotFoundAsync(projectKey, environmentKey, budget, cancellationToken).ConfigureAwait(false);
        }

        return flag;
    }

    /// <summary>
    /// <c>GET /api/v2/flags/{projectKey}?env=…&amp;limit=…&amp;offset=…</c>, following <c>_links.next</c> until there is none.
    /// With <paramref name="summary"/> false (<c>summary=0</c>) the environments carry their rules too. Archived flags are left out by the service.
    /// </summary>
    public async Task<IReadOnlyList<LdFlag>> ListFlagsAsync(string projectKey, string? environmentKey, bool summary, int? pageSize, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var limit = pageSize ?? Options.PageSize;
        var query = new StringBuilder($"?limit={limit.ToString(CultureInfo.InvariantCulture)}");
        if (environmentKey is not null)
        {
            query.Append("&env=").Append(Escape(environmentKey));
        }

        if (!summary)
        {
            query.Append("&summary=0");
        }

        var items = new List<LdFlag>();
        var path = $"/api/v2/flags/{Escape(projectKey)}{query}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var page = 0; page < MaxPages && seen.Add(path); page++)
        {
            var request = WithContext(LaunchDarklyRequest.Get(path, $"list the flags of project '{projectKey}'", projectKey), LaunchDarklyNotFoundContext.FlagList, null, environmentKey);
            LdFlagPage result;
            try
            {
                result = await SendAsync<LdFlagPage>(request, budget, cancellationToken).ConfigureAwait(false);
            }
            catch (LaunchDarklyHttpFailure failure)
            {
                throw await ResolveNotFoundAsync(request, failure, budget, cancellationToken).ConfigureAwait(false);
            }

            items.AddRange(result.Items);
            var next = NextPath(result.Links);
            if (next is null)
            {
                break;
            }

            path = next;
        }

        return items;
    }

    /// <summary><c>GET /api/v2/flag-statuses/{projectKey}/{environmentKey}/{flagKey}</c>.</summary>
    public async Task<LdFlagStatus> GetFlagStatusAsync(string projectKey, string environmentKey, string flagKey, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var request = WithContext(
            LaunchDarklyRequest.Get($"/api/v2/flag-statuses/{Escape(projectKey)}/{Escape(environmentKey)}/{Escape(flagKey)}", $"read the status of flag '{flagKey}' in '{environmentKey}'", projectKey),
            LaunchDarklyNotFoundContext.FlagStatus,
            flagKey,
            environmentKey);
        try
        {
            return await SendAsync<LdFlagStatus>(request, budget, cancellationToken).ConfigureAwait(false);
        }
        catch (LaunchDarklyHttpFailure failure)
        {
            throw await ResolveNotFoundAsync(request, failure, budget, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>GET /api/v2/projects/{projectKey}</c>.</summary>
    public async Task<LdProject> GetProjectAsync(string projectKey, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var request = ProjectRead(projectKey);
        try
        {
            return await SendAsync<LdProject>(request, budget, cancellationToken).ConfigureAwait(false);
        }
        catch (LaunchDarklyHttpFailure failure)
        {
            throw LaunchDarklyErrors.ProjectNotFound(projectKey, failure);
        }
    }

    /// <summary>
    /// <c>GET /api/v2/projects/{projectKey}/environments</c>, paged. (The project resource lists environments only with
    /// <c>expand=environments</c>; this endpoint is the documented list and pages like the flag list.)
    /// </summary>
    public async Task<IReadOnlyList<LdEnvironment>> ListEnvironmentsAsync(string projectKey, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var items = new List<LdEnvironment>();
        var path = $"/api/v2/projects/{Escape(projectKey)}/environments?limit={Options.PageSize.ToString(CultureInfo.InvariantCulture)}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var page = 0; page < MaxPages && seen.Add(path); page++)
        {
            var request = WithContext(LaunchDarklyRequest.Get(path, $"list the environments of project '{projectKey}'", projectKey), LaunchDarklyNotFoundContext.Project, null, null);
            LdEnvironmentPage result;
            try
            {
                result = await SendAsync<LdEnvironmentPage>(request, budget, cancellationToken).ConfigureAwait(false);
            }
            catch (LaunchDarklyHttpFailure failure)
            {
                throw LaunchDarklyErrors.ProjectNotFound(projectKey, failure);
            }

            items.AddRange(result.Items);
            var next = NextPath(result.Links);
            if (next is null)
            {
                break;
            }

            path = next;
        }

        return items;
    }

    /// <summary>
    /// <c>PATCH /api/v2/flags/{projectKey}/{flagKey}</c> with a semantic patch; with <paramref name="dryRun"/> the service
    /// validates it and returns the would-be flag without saving it. Returns the flag as LaunchDarkly answered it (all environments).
    /// </summary>
    public async Task<LdFlag> PatchFlagAsync(string projectKey, string flagKey, LdSemanticPatch patch, bool dryRun, LaunchDarklyBudget? budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        budget ??= LaunchDarklyBudget.Start(Options.DefaultBudget);
        var kinds = string.Join(" + ", patch.Instructions.Select(i => i.Kind));
        var request = LaunchDarklyRequest.Patch(
            $"/api/v2/flags/{Escape(projectKey)}/{Escape(flagKey)}{(dryRun ? "?dryRun=true" : string.Empty)}",
            $"{(dryRun ? "dry-run" : "apply")} {kinds} to flag '{flagKey}' in '{patch.EnvironmentKey}'",
            projectKey) with
        {
            FlagKey = flagKey,
            EnvironmentKey = patch.EnvironmentKey,
            Body = LaunchDarklyJson.Serialize(patch),
            ContentType = SemanticPatchContentType,
            IsWrite = !dryRun,
            IsDryRun = dryRun,
            NotFoundContext = LaunchDarklyNotFoundContext.FlagPatch,
        };
        try
        {
            return await SendAsync<LdFlag>(request, budget, cancellationToken).ConfigureAwait(false);
        }
        catch (LaunchDarklyHttpFailure failure)
        {
            throw await ResolveNotFoundAsync(request, failure, budget, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        http.Dispose();
        token.Dispose();
    }

    public override string ToString() => $"LaunchDarkly REST API at {BaseUri.GetLeftPart(UriPartial.Authority)}";

    private static bool IsLoopback(Uri uri)
    {
        if (string.Equals(uri.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static HttpMessageHandler CreateHandler() => new SocketsHttpHandler
    {
        // Never follow a redirect: the Authorization header must go to the configured host only.
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        UseCookies = false,
    };

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static LaunchDarklyRequest WithContext(LaunchDarklyRequest request, LaunchDarklyNotFoundContext context, string? flagKey, string? environmentKey)
        => request with { NotFoundContext = context, FlagKey = flagKey, EnvironmentKey = environmentKey };

    private static LaunchDarklyRequest FlagRead(string projectKey, string flagKey, string? environmentKey)
        => WithContext(
            LaunchDarklyRequest.Get(
                $"/api/v2/flags/{Escape(projectKey)}/{Escape(flagKey)}{(environmentKey is null ? string.Empty : "?env=" + Escape(environmentKey))}",
                $"read flag '{flagKey}' in project '{projectKey}'",
                projectKey),
            LaunchDarklyNotFoundContext.FlagRead,
            flagKey,
            environmentKey);

    private static LaunchDarklyRequest ProjectRead(string projectKey)
        => WithContext(LaunchDarklyRequest.Get($"/api/v2/projects/{Escape(projectKey)}", $"read project '{projectKey}'", projectKey), LaunchDarklyNotFoundContext.Project, null, null);

    /// <summary>
    /// The next page's path from <c>_links.next.href</c>. Only a relative link or one to our own host is followed, so
    /// the token never goes anywhere else.
    /// </summary>
    private string? NextPath(Dictionary<string, LdLink>? links)
    {
        if (links is null || !links.TryGetValue("next", out var next) || string.IsNullOrEmpty(next?.Href))
        {
            return null;
        }

        if (!Uri.TryCreate(next.Href, UriKind.RelativeOrAbsolute, out var link))
        {
            throw new FlagsException(LaunchDarklyErrorIds.UnexpectedResponse, FlagsErrorKind.InvalidData, "LaunchDarkly's next-page link is not a URI.");
        }

        string pathAndQuery;
        if (link.IsAbsoluteUri)
        {
            if (!string.Equals(link.GetLeftPart(UriPartial.Authority), BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
            {
                throw new FlagsException(LaunchDarklyErrorIds.UnexpectedResponse, FlagsErrorKind.InvalidData, $"LaunchDarkly's next-page link points to another host ('{link.Host}'); it was not followed.");
            }

            pathAndQuery = link.PathAndQuery;
        }
        else
        {
            pathAndQuery = next.Href!.StartsWith('/') ? next.Href : "/" + next.Href;
        }

        // A base URI with a path prefix (a proxy) keeps its prefix; LaunchDarkly's own links start at /api/v2.
        var prefix = BaseUri.AbsolutePath.TrimEnd('/');
        return prefix.Length > 0 && pathAndQuery.StartsWith(prefix + "/", StringComparison.Ordinal) ? pathAndQuery[prefix.Length..] : pathAndQuery;
    }

    /// <summary>
    /// Runs one request through the pipeline. Throws <see cref="FlagsException"/> for every failure except a 404, which
    /// it leaves as <see cref="LaunchDarklyHttpFailure"/> for the caller to narrow down.
    /// </summary>
    private async Task<T> SendAsync<T>(LaunchDarklyRequest request, LaunchDarklyBudget budget, CancellationToken cancellationToken)
        where T : class
    {
        cancellationToken.ThrowIfCancellationRequested();
        var call = new LaunchDarklyCall(request, budget, cancellationToken);
        if (budget.Remaining <= TimeSpan.Zero)
        {
            throw LaunchDarklyErrors.Exhausted(call, null);
        }

        log.Verbose($"LaunchDarkly: {request.Method} {request.PathAndQuery}");
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(LaunchDarklyRetryPipeline.CallKey, call);
        string body;
        try
        {
            body = await pipeline.ExecuteAsync(
                static (ctx, state) => state.Self.AttemptAsync(state.Call, ctx.CancellationToken),
                context,
                (Self: this, Call: call)).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw LaunchDarklyErrors.Exhausted(call, ex);
        }
        catch (LaunchDarklyHttpFailure failure) when (failure.Status != 404)
        {
            throw LaunchDarklyErrors.FromStatus(call, failure);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw LaunchDarklyErrors.Unreachable(call, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        log.Debug($"LaunchDarkly: {request.Method} {request.PathAndQuery} succeeded after {call.Attempts} attempt{(call.Attempts == 1 ? "" : "s")} ({budget}).");
        try
        {
            return LaunchDarklyJson.Deserialize<T>(body);
        }
        catch (JsonException ex)
        {
            throw LaunchDarklyErrors.UnreadableAnswer(call, ex);
        }
    }

    /// <summary>One attempt: a fresh request message, the token materialized only into its header.</summary>
    private async ValueTask<string> AttemptAsync(LaunchDarklyCall call, CancellationToken attemptToken)
    {
        call.Attempts++;
        var started = Stopwatch.GetTimestamp();
        using var message = new HttpRequestMessage(call.Request.Method, new Uri(root + call.Request.PathAndQuery, UriKind.Absolute));
        message.Headers.TryAddWithoutValidation("Authorization", token.Reveal());
        message.Headers.TryAddWithoutValidation("LD-API-Version", ApiVersion);
        message.Headers.TryAddWithoutValidation("Accept", "application/json");
        message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (call.Request.Body is { } body)
        {
            message.Content = new StringContent(body, Encoding.UTF8);
            message.Content.Headers.Remove("Content-Type");
            message.Content.Headers.TryAddWithoutValidation("Content-Type", call.Request.ContentType ?? "application/json");
        }

        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, attemptToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(attemptToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            var failure = LaunchDarklyHttpFailure.From(response, text, token);
            call.NoteFailure(failure);
            throw failure;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            call.NoteTransportFailure(ex);
            throw;
        }
        catch (OperationCanceledException) when (!call.CallerToken.IsCancellationRequested)
        {
            call.NoteNoAnswer(Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    /// <summary>
    /// Turns a 404 into ProjectNotFound, FlagNotFound or EnvironmentNotFound by asking about the project (and flag) —
    /// extra reads on the error path only. Any other failure is mapped as usual.
    /// </summary>
    private async Task<FlagsException> ResolveNotFoundAsync(LaunchDarklyRequest request, LaunchDarklyHttpFailure failure, LaunchDarklyBudget budget, CancellationToken cancellationToken)
    {
        var call = new LaunchDarklyCall(request, budget, cancellationToken);
        if (failure.Status != 404)
        {
            return LaunchDarklyErrors.FromStatus(call, failure);
        }

        if (request.NotFoundContext == LaunchDarklyNotFoundContext.Project)
        {
            return LaunchDarklyErrors.ProjectNotFound(request.ProjectKey, failure);
        }

        try
        {
            try
            {
                await SendAsync<LdProject>(ProjectRead(request.ProjectKey), budget, cancellationToken).ConfigureAwait(false);
            }
            catch (LaunchDarklyHttpFailure projectFailure)
            {
                return LaunchDarklyErrors.ProjectNotFound(request.ProjectKey, projectFailure);
            }

            // The service filters `env` (an unknown one is just absent), but should it answer 404 instead, the
            // environment is the thing missing: check it before blaming the flag.
            if (request.EnvironmentKey is not null)
            {
                var environments = await ListEnvironmentsAsync(request.ProjectKey, budget, cancellationToken).ConfigureAwait(false);
                if (!environments.Any(e => e.Key == request.EnvironmentKey))
                {
                    return LaunchDarklyErrors.EnvironmentNotFound(request.ProjectKey, request.EnvironmentKey, environments.Select(e => e.Key));
                }
            }

            if (request.NotFoundContext == LaunchDarklyNotFoundContext.FlagRead && request.FlagKey is not null)
            {
                return LaunchDarklyErrors.FlagNotFound(request.ProjectKey, request.FlagKey, failure);
            }

            if (request.FlagKey is not null)
            {
                try
                {
                    await SendAsync<LdFlag>(FlagRead(request.ProjectKey, request.FlagKey, request.EnvironmentKey), budget, cancellationToken).ConfigureAwait(false);
                }
                catch (LaunchDarklyHttpFailure flagFailure)
                {
                    return LaunchDarklyErrors.FlagNotFound(request.ProjectKey, request.FlagKey, flagFailure);
                }
            }
        }
        catch (FlagsException ex)
        {
            log.Debug($"LaunchDarkly: could not narrow down a 404 ({ex.ErrorId}).");
        }

        return LaunchDarklyErrors.NotFound(request, failure);
    }

    private async Task<FlagsException> EnvironmentNotFoundAsync(string projectKey, string environmentKey, LaunchDarklyBudget budget, CancellationToken cancellationToken)
    {
        IEnumerable<string>? known = null;
        try
        {
            known = (await ListEnvironmentsAsync(projectKey, budget, cancellationToken).ConfigureAwait(false)).Select(e => e.Key);
        }
        catch (FlagsException ex)
        {
            log.Debug($"LaunchDarkly: could not list the environments for the error message ({ex.ErrorId}).");
        }

        return LaunchDarklyErrors.EnvironmentNotFound(projectKey, environmentKey, known);
    }
}
