using System.Net;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// The one retry policy for guardrail GETs: connection faults, per-attempt timeouts, 429 (honouring Retry-After) and —
/// when the caller says 5xx is transient — 5xx, with jittered exponential backoff. A health check sets
/// <c>retryServerErrors</c> to false: for it a 503 is the measurement, not a fault.
/// </summary>
internal sealed class GuardrailHttp
{
    private readonly HttpClient client;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;

    public GuardrailHttp(HttpClient client, GuardrailHttpOptions options, bool retryServerErrors)
    {
        this.client = client;
        Options = options;
        pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => r.StatusCode == HttpStatusCode.TooManyRequests || (retryServerErrors && (int)r.StatusCode >= 500)),
                MaxRetryAttempts = Math.Max(0, options.MaxRetryAttempts),
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                DelayGenerator = args =>
                {
                    var retryAfter = args.Outcome.Result?.Headers.RetryAfter;
                    TimeSpan? wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
                    return ValueTask.FromResult(wait is { } w ? (TimeSpan?)TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, options.MaxRetryDelay.Ticks)) : null);
                },
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    public GuardrailHttpOptions Options { get; }

    /// <summary>
    /// Sends a GET through the policy. Connection faults and timeouts that outlast the retries surface as
    /// HttpRequestException / TimeoutRejectedException; the caller's cancellation surfaces as OperationCanceledException.
    /// </summary>
    public async Task<HttpResponseMessage> GetAsync(Uri uri, CancellationToken cancellationToken)
        => await pipeline.ExecuteAsync(
            static async (state, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, state.uri);
                request.Headers.Accept.ParseAdd("application/json");
                return await state.client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            },
            (client, uri),
            cancellationToken).ConfigureAwait(false);
}
