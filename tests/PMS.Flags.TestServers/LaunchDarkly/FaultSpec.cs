using Newtonsoft.Json;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// A fault for the next <see cref="Count"/> API requests (optionally only those with <see cref="Method"/> or whose path
/// contains <see cref="PathContains"/>). Kinds: "429-reset" (X-Ratelimit-Reset, epoch ms, <see cref="ResetMs"/> ahead),
/// "429-retry-after" (Retry-After, <see cref="RetryAfterSeconds"/>), "500", "502", "503", "504", "409"
/// (optimistic_locking_error), "delay" (<see cref="DelayMs"/> before the request is handled normally) and "drop" (the
/// connection is aborted). With <see cref="Phase"/> "after", "drop" and 5xx happen after the request was handled (the
/// change is made, the answer is lost).
/// </summary>
public sealed class FaultSpec
{
    public static readonly string[] Kinds = { "429-reset", "429-retry-after", "500", "502", "503", "504", "409", "delay", "drop" };

    [JsonProperty("kind")]
    public string Kind { get; set; } = "";

    [JsonProperty("count")]
    public int Count { get; set; } = 1;

    [JsonProperty("delayMs")]
    public int DelayMs { get; set; } = 1000;

    [JsonProperty("resetMs")]
    public int ResetMs { get; set; } = 500;

    [JsonProperty("retryAfterSeconds")]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>"before" (default) or "after".</summary>
    [JsonProperty("phase")]
    public string Phase { get; set; } = "before";

    [JsonProperty("method")]
    public string? Method { get; set; }

    [JsonProperty("pathContains")]
    public string? PathContains { get; set; }

    public void Validate()
    {
        if (!Kinds.Contains(Kind))
        {
            throw StandInError.Invalid($"Unknown fault kind '{Kind}'; known: {string.Join(", ", Kinds)}.");
        }

        if (Count < 1 || DelayMs < 0 || ResetMs < 0 || RetryAfterSeconds < 0 || Phase is not ("before" or "after"))
        {
            throw StandInError.Invalid("count must be >= 1, delays >= 0, phase 'before' or 'after'.");
        }
    }
}
