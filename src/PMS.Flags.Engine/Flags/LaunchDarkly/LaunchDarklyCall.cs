using System.Net.Http;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// The running record of one request through the resilience pipeline: attempts, the last failure, and whether any
/// attempt of a write may have reached LaunchDarkly (so a final error can say precisely whether something changed).
/// </summary>
internal sealed class LaunchDarklyCall
{
    public LaunchDarklyCall(LaunchDarklyRequest request, LaunchDarklyBudget budget, CancellationToken callerToken)
    {
        Request = request;
        Budget = budget;
        CallerToken = callerToken;
    }

    public LaunchDarklyRequest Request { get; }

    public LaunchDarklyBudget Budget { get; }

    public CancellationToken CallerToken { get; }

    public int Attempts { get; set; }

    /// <summary>Short description of the last failed attempt (status, code, request id or transport error); never a header.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>True when an attempt of a write ended in a way that does not rule out that LaunchDarkly applied it.</summary>
    public bool PossiblyApplied { get; private set; }

    /// <summary>Set when a 429 asked for a longer wait than the budget had left, so the pipeline stopped.</summary>
    public TimeSpan? RefusedRateLimitWait { get; set; }

    public void NoteFailure(LaunchDarklyHttpFailure failure)
    {
        LastFailure = failure.Describe();

        // 429 (rate limited) and 409 (a concurrent change won) are answered before anything is applied; a 4xx is a
        // refusal. A 5xx may come from a proxy after the backend acted, so it does not rule the change out.
        if (failure.Status >= 500)
        {
            NoteUncertain();
        }
    }

    public void NoteTransportFailure(Exception ex)
    {
        LastFailure = ex is HttpRequestException { HttpRequestError: var error } && error != HttpRequestError.Unknown
            ? $"connection failure ({error})"
            : $"connection failure ({ex.GetType().Name})";

        // A refused connection, a failed name lookup or TLS handshake means the request was never sent.
        var neverSent = ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError };
        if (!neverSent)
        {
            NoteUncertain();
        }
    }

    /// <summary>An attempt abandoned without an answer: its own timeout, or the budget running out while it waited.</summary>
    public void NoteNoAnswer(TimeSpan waited)
    {
        if (Budget.Remaining > TimeSpan.FromMilliseconds(5))
        {
            LastFailure = $"no answer within {waited.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s";
        }
        else
        {
            // Cut off by the budget: keep the earlier, more telling failure.
            LastFailure ??= "no answer before the budget ran out";
        }

        NoteUncertain();
    }

    private void NoteUncertain()
    {
        if (Request.IsWrite)
        {
            PossiblyApplied = true;
        }
    }
}
