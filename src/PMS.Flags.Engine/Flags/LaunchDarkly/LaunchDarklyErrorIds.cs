namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// The stable ErrorIds of the LaunchDarkly client and store (<see cref="Common.FlagsException.ErrorId"/>). Scripts and
/// tests match on these; the messages may change.
/// </summary>
public static class LaunchDarklyErrorIds
{
    /// <summary>The base URI is not an absolute http(s) URI, or carries user info.</summary>
    public const string InvalidBaseUri = "InvalidBaseUri";

    /// <summary>An http:// base URI whose host is not loopback: the token is sent only over https.</summary>
    public const string InsecureBaseUri = "InsecureBaseUri";

    /// <summary>The token is empty (no -ApiKey, no LD_API_KEY).</summary>
    public const string TokenMissing = "LaunchDarklyTokenMissing";

    /// <summary>The token holds characters a header cannot carry (spaces, line breaks, non-ASCII).</summary>
    public const string TokenInvalid = "LaunchDarklyTokenInvalid";

    /// <summary>401: missing or invalid token.</summary>
    public const string Unauthorized = "LaunchDarklyUnauthorized";

    /// <summary>403: the token lacks permission.</summary>
    public const string Forbidden = "LaunchDarklyForbidden";

    /// <summary>405: the environment requires an approval request; never retried.</summary>
    public const string ApprovalRequired = "ApprovalRequired";

    /// <summary>400/422: LaunchDarkly refused the request; its code, message and request id are in the message.</summary>
    public const string Rejected = "LaunchDarklyRejected";

    /// <summary>Retries (429 waits, 5xx, faults, timeouts) did not succeed within the budget; the message says whether the change was made.</summary>
    public const string BudgetExhausted = "LaunchDarklyBudgetExhausted";

    /// <summary>A connection fault that was not retried (only when the call was stopped).</summary>
    public const string Unreachable = "LaunchDarklyUnreachable";

    /// <summary>An answer this tool cannot read or does not handle.</summary>
    public const string UnexpectedResponse = "LaunchDarklyUnexpectedResponse";

    /// <summary>A 404 that could not be narrowed down to a project, flag or environment.</summary>
    public const string NotFound = "LaunchDarklyNotFound";

    public const string ProjectNotFound = "ProjectNotFound";

    public const string FlagNotFound = "FlagNotFound";

    public const string EnvironmentNotFound = "EnvironmentNotFound";

    /// <summary>FlagChange.Rule names no rule of the flag in that environment.</summary>
    public const string RuleNotFound = "RuleNotFound";

    /// <summary>The flag is not boolean (kind other than boolean, or variations other than exactly true and false).</summary>
    public const string FlagNotBoolean = "FlagNotBoolean";
}
