using System.Diagnostics;
using System.Globalization;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// The total time one operation may spend on LaunchDarkly, retries and rate-limit waits included. An operation that
/// makes two requests (read, then patch) shares one budget between them.
/// </summary>
public sealed class LaunchDarklyBudget
{
    private readonly long startedAt;

    private LaunchDarklyBudget(TimeSpan total)
    {
        if (total <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(total), "The budget must be positive.");
        }

        Total = total;
        startedAt = Stopwatch.GetTimestamp();
    }

    public TimeSpan Total { get; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(startedAt);

    public TimeSpan Remaining => Total - Elapsed;

    public static LaunchDarklyBudget Start(TimeSpan total) => new(total);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Total.TotalSeconds:0.###} s budget, {Math.Max(0, Remaining.TotalSeconds):0.###} s left");
}
