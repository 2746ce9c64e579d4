using System.Globalization;
using System.Net.Http.Headers;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A non-2xx answer inside the resilience pipeline. It never leaves the client: the client turns it into a
/// <see cref="Common.FlagsException"/> with a stable ErrorId. Its text comes from LaunchDarkly's error body, redacted.
/// </summary>
internal sealed class LaunchDarklyHttpFailure : Exception
{
    private LaunchDarklyHttpFailure(int status, string? code, string? ldMessage, string? requestId, TimeSpan? retryAfter, string? retryAfterSource)
        : base($"LaunchDarkly answered {status}{(code is null ? "" : " " + code)}.")
    {
        Status = status;
        Code = code;
        LdMessage = ldMessage;
        RequestId = requestId;
        RetryAfter = retryAfter;
        RetryAfterSource = retryAfterSource;
    }

    public int Status { get; }

    public string? Code { get; }

    public string? LdMessage { get; }

    public string? RequestId { get; }

    /// <summary>How long LaunchDarkly told us to wait (429), from X-Ratelimit-Reset or Retry-After, whichever is later.</summary>
    public TimeSpan? RetryAfter { get; }

    public string? RetryAfterSource { get; }

    public static LaunchDarklyHttpFailure From(HttpResponseMessage response, string body, LaunchDarklyAccessToken token)
    {
        var error = LaunchDarklyJson.TryError(body);
        var message = error?.Message;
        if (message is null && !string.IsNullOrWhiteSpace(body) && error is null)
        {
            message = body.Length > 300 ? body[..300] + "…" : body;
        }

        var (retryAfter, source) = ReadRetryAfter(response, DateTimeOffset.UtcNow);
        return new LaunchDarklyHttpFailure(
            (int)response.StatusCode,
            Clip(token.Redact(error?.Code), 80),
            Clip(token.Redact(message), 500),
            Clip(token.Redact(error?.Id ?? FirstHeader(response.Headers, "X-Request-Id")), 100),
            retryAfter,
            source);
    }

    /// <summary>"429 rate_limited: "Too many requests" (request id abc)" — what a user and support need, nothing else.</summary>
    public string Describe()
    {
        var text = Status.ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(Code))
        {
            text += " " + Code;
        }

        if (!string.IsNullOrEmpty(LdMessage))
        {
            text += $": \"{LdMessage}\"";
        }

        if (!string.IsNullOrEmpty(RequestId))
        {
            text += $" (request id {RequestId})";
        }

        return text;
    }

    internal static (TimeSpan? Wait, string? Source) ReadRetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        TimeSpan? wait = null;
        string? source = null;
        if (FirstHeader(response.Headers, "X-Ratelimit-Reset") is { } reset
            && long.TryParse(reset, NumberStyles.Integer, CultureInfo.InvariantCulture, out var resetMs))
        {
            // Round up so a reset at .4 ms past a millisecond is never treated as reached early.
            var until = DateTimeOffset.FromUnixTimeMilliseconds(resetMs) - now + TimeSpan.FromMilliseconds(1);
            wait = until > TimeSpan.Zero ? until : TimeSpan.Zero;
            source = "X-Ratelimit-Reset";
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            var told = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - now : TimeSpan.Zero);
            if (told < TimeSpan.Zero)
            {
                told = TimeSpan.Zero;
            }

            if (wait is null || told > wait)
            {
                wait = told;
                source = "Retry-After";
            }
        }

        return (wait, source);
    }

    private static string? FirstHeader(HttpResponseHeaders headers, string name)
        => headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string? Clip(string? text, int max)
        => string.IsNullOrEmpty(text) ? null : text.Length <= max ? text : text[..max] + "…";
}
