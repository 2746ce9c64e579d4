using System.Security;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// Where notifications go: a Slack or Teams incoming webhook, a generic JSON webhook, or Grafana's annotations API.
/// The URI (an incoming webhook's path IS its credential) and the Grafana token are secrets: they are held here and
/// used only to send; <see cref="Endpoint"/>, <see cref="ToString"/>, the audit events and every message show the
/// scheme and host only.
/// </summary>
public sealed class NotificationChannel
{
    public const string Slack = "Slack";
    public const string Teams = "Teams";
    public const string Webhook = "Webhook";
    public const string Grafana = "Grafana";

    public static IReadOnlyList<string> Kinds { get; } = new[] { Slack, Teams, Webhook, Grafana };

    /// <summary>The -Notify default: long enough for a webhook on a healthy network, short enough that a hanging one costs a rollback nothing worth counting.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly Uri uri;
    private readonly SecureString? token;

    public NotificationChannel(string kind, Uri uri, SecureString? token = null, string? name = null, TimeSpan? timeout = null)
    {
        Kind = Kinds.FirstOrDefault(k => string.Equals(k, kind, StringComparison.OrdinalIgnoreCase))
               ?? throw Invalid("NotificationChannelInvalid", $"'{kind}' is not a notification channel kind: {string.Join(", ", Kinds)}.");
        if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid("NotificationChannelInvalid", $"A {Kind} channel needs an absolute http(s) URI.");
        }

        // Over plain http the webhook path (the credential) and the token would cross the network readable.
        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            throw Invalid("NotificationChannelInsecure", $"A {Kind} channel to {uri.Host} must use https: its URI{(Kind == Grafana ? " and token" : "")} would cross the network in clear text.");
        }

        if (Kind == Grafana && (token is null || token.Length == 0))
        {
            throw Invalid("NotificationTokenRequired", "A Grafana channel needs -Token (a service-account token with annotation write permission).");
        }

        if (timeout is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromMinutes(1)))
        {
            throw Invalid("NotificationChannelInvalid", $"A channel's timeout must be above zero and at most a minute; got {t}.");
        }

        this.uri = uri;
        this.token = token?.Copy();
        this.token?.MakeReadOnly();
        Timeout = timeout ?? DefaultTimeout;
        Name = string.IsNullOrWhiteSpace(name) ? $"{Kind} {uri.Host}" : name.Trim();
    }

    public string Kind { get; }

    public string Name { get; }

    /// <summary>Scheme and host only; the path and query of a webhook are its credential.</summary>
    public string Endpoint => $"{uri.Scheme}://{uri.Authority}/…";

    public TimeSpan Timeout { get; }

    public bool HasToken => token is not null;

    internal Uri Uri => uri;

    internal SecureString? Token => token;

    /// <summary>Removes the full URI (and its path) from a text that is about to be shown or recorded.</summary>
    internal string Scrub(string text)
    {
        var scrubbed = text.Replace(uri.AbsoluteUri, Endpoint, StringComparison.OrdinalIgnoreCase).Replace(uri.OriginalString, Endpoint, StringComparison.OrdinalIgnoreCase);
        return uri.PathAndQuery.Length > 1 ? scrubbed.Replace(uri.PathAndQuery, "/…", StringComparison.OrdinalIgnoreCase) : scrubbed;
    }

    public override string ToString() => $"{Name} ({Kind}, {Endpoint})";

    private static FlagsException Invalid(string errorId, string message) => new(errorId, FlagsErrorKind.InvalidArgument, message);
}
