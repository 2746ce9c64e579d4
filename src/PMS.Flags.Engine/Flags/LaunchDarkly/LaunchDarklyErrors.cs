using System.Globalization;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// Every refusal the LaunchDarkly client and store raise, with its stable ErrorId. Messages carry LaunchDarkly's
/// <c>code</c>, <c>message</c> and request <c>id</c>, say whether anything changed, and never carry a header or the token.
/// </summary>
internal static class LaunchDarklyErrors
{
    public static FlagsException FromStatus(LaunchDarklyCall call, LaunchDarklyHttpFailure failure)
    {
        var request = call.Request;
        var nothing = NothingChangedSentence(call);
        return failure.Status switch
        {
            401 => new FlagsException(
                LaunchDarklyErrorIds.Unauthorized,
                FlagsErrorKind.AuthenticationError,
                $"LaunchDarkly did not accept the access token ({failure.Describe()}) when asked to {request.Description}. Check the key given with -ApiKey or LD_API_KEY: it must be an API access token (personal or service), not an SDK key. {nothing}",
                request.ProjectKey,
                failure),
            403 => new FlagsException(
                LaunchDarklyErrorIds.Forbidden,
                FlagsErrorKind.PermissionDenied,
                $"The access token may not {request.Description} ({failure.Describe()}). Ask a LaunchDarkly admin for a role that allows it. {nothing}",
                request.FlagKey ?? request.ProjectKey,
                failure),
            405 => new FlagsException(
                LaunchDarklyErrorIds.ApprovalRequired,
                FlagsErrorKind.PermissionDenied,
                $"Environment '{request.EnvironmentKey}' of project '{request.ProjectKey}' requires approval for flag changes: LaunchDarkly refused to {request.Description} ({failure.Describe()}). " +
                $"An approval request is needed: create one in LaunchDarkly (POST /api/v2/projects/{request.ProjectKey}/flags/{request.FlagKey}/environments/{request.EnvironmentKey}/approval-requests) and have it reviewed. This was not retried. {nothing}",
                request.FlagKey ?? request.ProjectKey,
                failure),
            400 or 422 => new FlagsException(
                LaunchDarklyErrorIds.Rejected,
                FlagsErrorKind.InvalidArgument,
                $"LaunchDarkly rejected the request to {request.Description}: {failure.Describe()}. {nothing}",
                request.FlagKey ?? request.ProjectKey,
                failure),
            429 when call.RefusedRateLimitWait is { } wait => Exhausted(
                call,
                $"LaunchDarkly rate-limited the request ({failure.Describe()}) and its {failure.RetryAfterSource} header asks to wait {Seconds(wait)} s, more than the {Seconds(Max0(call.Budget.Remaining))} s left of the {Seconds(call.Budget.Total)} s budget",
                failure),
            _ => new FlagsException(
                LaunchDarklyErrorIds.UnexpectedResponse,
                FlagsErrorKind.InvalidOperation,
                $"LaunchDarkly answered the request to {request.Description} with {failure.Describe()}, which this tool does not handle. {nothing}",
                request.FlagKey ?? request.ProjectKey,
                failure),
        };
    }

    public static FlagsException Exhausted(LaunchDarklyCall call, Exception? inner)
        => Exhausted(
            call,
            call.Attempts == 0
                ? $"The {Seconds(call.Budget.Total)} s budget was used up before LaunchDarkly could be asked to {call.Request.Description}"
                : $"LaunchDarkly did not {call.Request.Description} within the {Seconds(call.Budget.Total)} s budget ({call.Attempts} attempt{(call.Attempts == 1 ? "" : "s")}; last failure: {call.LastFailure ?? "no answer"})",
            inner);

    public static FlagsException Unreachable(LaunchDarklyCall call, Exception inner)
        => new(
            LaunchDarklyErrorIds.Unreachable,
            FlagsErrorKind.ConnectionError,
            $"LaunchDarkly could not be reached to {call.Request.Description} ({call.LastFailure ?? inner.GetType().Name}). {OutcomeSentence(call)}",
            call.Request.FlagKey ?? call.Request.ProjectKey,
            inner)
        {
            ChangeMayHaveBeenMade = call.Request.IsWrite && call.PossiblyApplied,
        };

    public static FlagsException UnreadableAnswer(LaunchDarklyCall call, Exception inner)
        => new(
            LaunchDarklyErrorIds.UnexpectedResponse,
            FlagsErrorKind.InvalidData,
            call.Request.IsWrite
                ? $"LaunchDarkly accepted the request to {call.Request.Description} but its answer could not be read ({inner.GetType().Name}); the change WAS made. Read the flag to see its state."
                : $"LaunchDarkly's answer to the request to {call.Request.Description} could not be read ({inner.GetType().Name}). {NothingChangedSentence(call)}",
            call.Request.FlagKey ?? call.Request.ProjectKey,
            inner)
        {
            ChangeWasMade = call.Request.IsWrite,
        };

    public static FlagsException ProjectNotFound(string projectKey, LaunchDarklyHttpFailure? failure)
        => new(LaunchDarklyErrorIds.ProjectNotFound, FlagsErrorKind.ObjectNotFound, $"LaunchDarkly has no project '{projectKey}'{Suffix(failure)}. Nothing was changed.", projectKey, failure);

    public static FlagsException FlagNotFound(string projectKey, string flagKey, LaunchDarklyHttpFailure? failure)
        => new(LaunchDarklyErrorIds.FlagNotFound, FlagsErrorKind.ObjectNotFound, $"Flag '{flagKey}' does not exist in LaunchDarkly project '{projectKey}'{Suffix(failure)}. Nothing was changed.", flagKey, failure);

    public static FlagsException EnvironmentNotFound(string projectKey, string environmentKey, IEnumerable<string>? known)
    {
        var list = known?.ToArray();
        var knownText = list is { Length: > 0 } ? $" Known environments: {string.Join(", ", list)}." : string.Empty;
        return new(LaunchDarklyErrorIds.EnvironmentNotFound, FlagsErrorKind.ObjectNotFound, $"Environment '{environmentKey}' does not exist in LaunchDarkly project '{projectKey}'.{knownText} Nothing was changed.", environmentKey);
    }

    public static FlagsException NotFound(LaunchDarklyRequest request, LaunchDarklyHttpFailure failure)
        => new(LaunchDarklyErrorIds.NotFound, FlagsErrorKind.ObjectNotFound, $"LaunchDarkly found nothing to {request.Description} ({failure.Describe()}). Nothing was changed.", request.FlagKey ?? request.ProjectKey, failure);

    public static FlagsException RuleNotFound(string flagKey, string environmentKey, string ruleId, IEnumerable<string> known)
    {
        var list = known.ToArray();
        return new(
            LaunchDarklyErrorIds.RuleNotFound,
            FlagsErrorKind.ObjectNotFound,
            $"Flag '{flagKey}' has no rule with id '{ruleId}' in '{environmentKey}'.{(list.Length > 0 ? $" Its rules: {string.Join(", ", list)}." : " It has no rules.")} Nothing was changed.",
            ruleId);
    }

    public static FlagsException NotBoolean(string flagKey, string? kind, int variations)
        => new(
            LaunchDarklyErrorIds.FlagNotBoolean,
            FlagsErrorKind.InvalidOperation,
            $"Flag '{flagKey}' is not a boolean flag (kind '{kind ?? "?"}', {variations} variation{(variations == 1 ? "" : "s")}); PMS.Flags only changes boolean flags whose variations are exactly true and false. Nothing was changed.",
            flagKey);

    private static FlagsException Exhausted(LaunchDarklyCall call, string what, Exception? inner)
        => new(LaunchDarklyErrorIds.BudgetExhausted, FlagsErrorKind.OperationTimeout, $"{what}. {OutcomeSentence(call)}", call.Request.FlagKey ?? call.Request.ProjectKey, inner)
        {
            ChangeMayHaveBeenMade = call.Request.IsWrite && call.Attempts > 0 && call.PossiblyApplied,
        };

    /// <summary>Whether the change was made, as precisely as the attempts allow.</summary>
    private static string OutcomeSentence(LaunchDarklyCall call)
    {
        if (!call.Request.IsWrite)
        {
            return NothingChangedSentence(call);
        }

        if (call.Attempts == 0)
        {
            return "The change was never sent, so nothing was changed.";
        }

        return call.PossiblyApplied
            ? "No change was confirmed: at least one attempt ended without an answer or with a server error, so LaunchDarkly may or may not have applied it. Read the flag before acting again; resending the same change is safe."
            : "No change was made: LaunchDarkly refused every attempt before applying it.";
    }

    private static string NothingChangedSentence(LaunchDarklyCall call)
        => call.Request.IsDryRun ? "Nothing was changed (dry run)." : call.Request.IsWrite ? "Nothing was changed." : "Nothing was changed (this was a read).";

    private static string Suffix(LaunchDarklyHttpFailure? failure) => failure is null ? string.Empty : $" ({failure.Describe()})";

    private static TimeSpan Max0(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
