using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>Queued faults, consumed one per matching API request, plus the rate-limit window a 429 opened.</summary>
public sealed class FaultInjector
{
    private readonly object gate = new();
    private readonly List<FaultSpec> pending = new();
    private DateTimeOffset rateLimitedUntil = DateTimeOffset.MinValue;
    private string? rateLimitHeader;

    public void Add(FaultSpec fault)
    {
        fault.Validate();
        lock (gate)
        {
            pending.Add(fault);
        }
    }

    public void Clear()
    {
        lock (gate)
        {
            pending.Clear();
            rateLimitedUntil = DateTimeOffset.MinValue;
            rateLimitHeader = null;
        }
    }

    public JArray Snapshot()
    {
        lock (gate)
        {
            return JArray.FromObject(pending.Select(f => new { f.Kind, remaining = f.Count, f.Phase, f.Method, f.PathContains }));
        }
    }

    /// <summary>The fault this request gets, if any; decrements its count.</summary>
    public FaultSpec? Take(string method, string path)
    {
        lock (gate)
        {
            var match = pending.FirstOrDefault(f => (f.Method is null || string.Equals(f.Method, method, StringComparison.OrdinalIgnoreCase))
                && (f.PathContains is null || path.Contains(f.PathContains, StringComparison.Ordinal)));
            if (match is null)
            {
                return null;
            }

            match.Count--;
            if (match.Count == 0)
            {
                pending.Remove(match);
            }

            return new FaultSpec { Kind = match.Kind, DelayMs = match.DelayMs, ResetMs = match.ResetMs, RetryAfterSeconds = match.RetryAfterSeconds, Phase = match.Phase };
        }
    }

    /// <summary>Opens a rate-limit window: requests before <paramref name="until"/> are refused again (and marked early).</summary>
    public void RateLimit(DateTimeOffset until, string header)
    {
        lock (gate)
        {
            rateLimitedUntil = until;
            rateLimitHeader = header;
        }
    }

    public (DateTimeOffset Until, string Header)? ActiveRateLimit(DateTimeOffset now)
    {
        lock (gate)
        {
            return now < rateLimitedUntil && rateLimitHeader is not null ? (rateLimitedUntil, rateLimitHeader) : null;
        }
    }
}
