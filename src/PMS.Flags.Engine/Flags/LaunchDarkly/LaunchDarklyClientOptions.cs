namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>Timing of the client's one resilience pipeline. The defaults suit interactive and pipeline use.</summary>
public sealed class LaunchDarklyClientOptions
{
    /// <summary>Budget of a call made without one (the store passes its own).</summary>
    public TimeSpan DefaultBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for one attempt's answer before it is abandoned and retried.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First back-off delay after a 5xx, a connection fault or a timeout; doubles each time, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Extra random wait on top of what a 429 tells us, so clients that were limited together do not return together.</summary>
    public TimeSpan RateLimitJitter { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Page size when listing flags and environments (LaunchDarkly's default is 20).</summary>
    public int PageSize { get; init; } = 100;
}
