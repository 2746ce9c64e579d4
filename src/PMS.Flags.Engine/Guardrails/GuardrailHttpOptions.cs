namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Timeouts and retries for guardrail HTTP calls. The defaults keep one evaluation under about half a minute in the
/// worst case, so a stepping scheduler never hangs on a dead Prometheus; tests shrink the delays.
/// </summary>
public sealed class GuardrailHttpOptions
{
    public static readonly GuardrailHttpOptions Default = new();

    /// <summary>Per attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt, for connection faults, timeouts, 429 and 5xx (GET is idempotent).</summary>
    public int MaxRetryAttempts { get; init; } = 2;

    /// <summary>The first backoff; it grows exponentially with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between attempts, also the cap on a server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);
}
