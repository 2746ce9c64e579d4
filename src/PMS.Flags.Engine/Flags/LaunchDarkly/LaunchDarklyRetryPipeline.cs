using System.Globalization;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// The one resilience pipeline every LaunchDarkly request goes through:
/// <list type="number">
/// <item>an outer timeout that is the call's remaining budget (shared by the requests of one operation);</item>
/// <item>retry: 429 waits at least as long as <c>X-Ratelimit-Reset</c> / <c>Retry-After</c> say, plus jitter, and gives up at
/// once when that wait does not fit the budget; 409, 5xx, connection faults and attempt timeouts back off exponentially
/// with jitter. Every request we send is safe to repeat (reads, and semantic patches with absolute targets). 405 and
/// other 4xx are never retried;</item>
/// <item>an attempt timeout, so one hung connection cannot eat the whole budget.</item>
/// </list>
/// </summary>
internal static class LaunchDarklyRetryPipeline
{
    public static readonly ResiliencePropertyKey<LaunchDarklyCall?> CallKey = new("PMS.Flags.LaunchDarkly.Call");

    public static ResiliencePipeline Build(LaunchDarklyClientOptions options, IOperationLog log)
        => new ResiliencePipelineBuilder()
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(AtLeastOneMillisecond(CallOf(args.Context).Budget.Remaining)),
            })
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(CallOf(args.Context), args.Outcome.Exception, options)),
                DelayGenerator = args => ValueTask.FromResult(RateLimitDelay(args.Outcome.Exception, options)),
                OnRetry = args =>
                {
                    var call = CallOf(args.Context);
                    if (args.RetryDelay >= call.Budget.Remaining)
                    {
                        // The next attempt would start after the budget ends: announcing it would promise an attempt
                        // that never happens. Give up now, with the failures so far, instead of sleeping into the timeout.
                        throw LaunchDarklyErrors.Exhausted(call, args.Outcome.Exception);
                    }

                    var why = args.Outcome.Exception is LaunchDarklyHttpFailure { Status: 429, RetryAfterSource: { } source }
                        ? $"waiting {Seconds(args.RetryDelay)} s as its {source} header asks"
                        : $"retrying in {Seconds(args.RetryDelay)} s";
                    log.Warning($"LaunchDarkly: {call.Request.Description} failed with {call.LastFailure ?? "an error"}; {why} (attempt {call.Attempts + 1}, {call.Budget}).");
                    return default;
                },
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args =>
                {
                    var remaining = CallOf(args.Context).Budget.Remaining;
                    return ValueTask.FromResult(AtLeastOneMillisecond(remaining < options.AttemptTimeout ? remaining : options.AttemptTimeout));
                },
            })
            .Build();

    private static LaunchDarklyCall CallOf(ResilienceContext context)
        => context.Properties.GetValue(CallKey, null) ?? throw new InvalidOperationException("A LaunchDarkly request ran without its call record.");

    private static bool ShouldRetry(LaunchDarklyCall call, Exception? exception, LaunchDarklyClientOptions options)
    {
        if (call.CallerToken.IsCancellationRequested)
        {
            return false;
        }

        switch (exception)
        {
            case null:
                return false;
            case LaunchDarklyHttpFailure { Status: 429, RetryAfter: { } told }:
                // Never earlier than told; and if the told wait cannot fit the budget, stop now instead of sleeping
                // into a timeout: the caller gets a clear "budget exhausted" error straight away.
                if (told + options.RateLimitJitter >= call.Budget.Remaining)
                {
                    call.RefusedRateLimitWait = told;
                    return false;
                }

                return true;
            case LaunchDarklyHttpFailure { Status: 429 or 409 }:
                return true;
            case LaunchDarklyHttpFailure { Status: 500 or 502 or 503 or 504 }:
                return true;
            case LaunchDarklyHttpFailure:
                return false;
            case HttpRequestException or IOException:
                return true;
            case TimeoutRejectedException:
                return true;
            default:
                return false;
        }
    }

    private static TimeSpan? RateLimitDelay(Exception? exception, LaunchDarklyClientOptions options)
    {
        if (exception is LaunchDarklyHttpFailure { Status: 429, RetryAfter: { } told })
        {
            var jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * options.RateLimitJitter.TotalMilliseconds);
            return told + TimeSpan.FromMilliseconds(10) + jitter;
        }

        return null; // Polly's exponential back-off with jitter
    }

    private static TimeSpan AtLeastOneMillisecond(TimeSpan value) => value > TimeSpan.FromMilliseconds(1) ? value : TimeSpan.FromMilliseconds(1);

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
