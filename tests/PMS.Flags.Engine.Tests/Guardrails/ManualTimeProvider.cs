namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>
/// A wall clock the test moves by hand, so bake times and For durations pass without sleeping. Only GetUtcNow is
/// replaced: timestamps for measuring elapsed time (latencies, detection-to-flag-off) stay real, and timers stay real so
/// Polly's retry delays still complete.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly object gate = new();
    private DateTimeOffset now;

    public ManualTimeProvider(DateTimeOffset start) => now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            now += by;
        }
    }
}
