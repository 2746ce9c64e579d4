using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// Posts a notification in each service's incoming-webhook format (Slack's <c>text</c>, a Teams MessageCard, a plain
/// JSON document for a generic webhook, a Grafana annotation with tags flag, environment and event), once, within the
/// channel's timeout, and records the outcome in the ledger. It never throws for a failed send: a notification is a
/// courtesy after the work is done, and the caller (a rollback) must not fail or wait because a chat service did.
/// There is no retry on purpose: a retry would stretch the wait the timeout bounds.
/// </summary>
public sealed class NotificationSender : IDisposable
{
    private readonly HttpClient client;
    private readonly TimeProvider time;

    public NotificationSender(HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.UserAgent.ParseAdd("PMS.Flags/0.1 (notification)");
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>Sends to every channel (at the same time), records each outcome through <paramref name="audit"/> when given, and returns the outcomes.</summary>
    public async Task<IReadOnlyList<NotificationDelivery>> SendAsync(IReadOnlyList<NotificationChannel> channels, FlagNotification notification, AuditTrail? audit, string user, string? rolloutId, CancellationToken cancellationToken)
    {
        var deliveries = await Task.WhenAll(channels.Select(c => SendOneAsync(c, notification, cancellationToken))).ConfigureAwait(false);
        if (audit is null)
        {
            return deliveries;
        }

        var recorded = new List<NotificationDelivery>();
        foreach (var delivery in deliveries)
        {
            var draft = new AuditEvent
            {
                EventType = delivery.Succeeded ? NotificationEventTypes.Sent : NotificationEventTypes.Failed,
                UserId = user,
                FeatureFlag = notification.Flag,
                Environment = notification.Environment,
                Reason = $"{notification.Template} notification ({notification.Event}) via {delivery.Channel}",
                RolloutId = rolloutId,
                Outcome = delivery.Succeeded ? "sent" : "failed",
                Details = new JObject
                {
                    ["channel"] = delivery.Channel,
                    ["kind"] = delivery.Kind,
                    ["endpoint"] = delivery.Endpoint,
                    ["event"] = delivery.Event,
                    ["template"] = notification.Template,
                    ["subject"] = notification.Subject,
                    ["status_code"] = delivery.StatusCode,
                    ["error"] = delivery.Error,
                    ["elapsed_ms"] = (long)delivery.Elapsed.TotalMilliseconds,
                }.ToString(Formatting.None),
            };
            try
            {
                // Not cancellable: the send happened; its record is kept (or spooled) like any other.
                var record = await audit.RecordAsync(draft, CancellationToken.None).ConfigureAwait(false);
                recorded.Add(Copy(delivery, record.Spooled ? null : record.Event.Sequence));
            }
            catch (FlagsException ex)
            {
                audit.Log.Warning($"The outcome of the notification to {delivery.Channel} could not be recorded: {ex.Message}");
                recorded.Add(delivery);
            }
        }

        return recorded;
    }

    private async Task<NotificationDelivery> SendOneAsync(NotificationChannel channel, FlagNotification notification, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(channel.Timeout);
        int? status = null;
        string? error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Target(channel))
            {
                Content = new StringContent(Payload(channel, notification).ToString(Formatting.None), Encoding.UTF8, "application/json"),
            };
            if (channel.Token is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Reveal(token));
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return Delivery(channel, notification, true, status, null, started);
            }

            var said = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            error = $"HTTP {status} {response.ReasonPhrase}{(string.IsNullOrWhiteSpace(said) ? "" : $": {Shorten(said)}")}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"no answer within {channel.Timeout.TotalSeconds:0.#} s";
        }
        catch (OperationCanceledException)
        {
            error = "cancelled";
        }
        catch (HttpRequestException ex)
        {
            error = $"unreachable: {ex.Message}";
        }

        return Delivery(channel, notification, false, status, channel.Scrub(error), started);
    }

    private NotificationDelivery Delivery(NotificationChannel channel, FlagNotification notification, bool ok, int? status, string? error, long started) => new()
    {
        Channel = channel.Name,
        Kind = channel.Kind,
        Endpoint = channel.Endpoint,
        Event = notification.Event,
        Subject = notification.Subject,
        Succeeded = ok,
        StatusCode = status,
        Error = error,
        Elapsed = time.GetElapsedTime(started),
    };

    private static NotificationDelivery Copy(NotificationDelivery d, long? sequence) => new()
    {
        Channel = d.Channel, Kind = d.Kind, Endpoint = d.Endpoint, Event = d.Event, Subject = d.Subject, Succeeded = d.Succeeded,
        StatusCode = d.StatusCode, Error = d.Error, Elapsed = d.Elapsed, AuditSequence = sequence,
    };

    /// <summary>Grafana: the annotations endpoint under the Grafana root given; every other kind: the webhook URI as it is.</summary>
    private static Uri Target(NotificationChannel channel)
    {
        if (channel.Kind != NotificationChannel.Grafana || channel.Uri.AbsolutePath.TrimEnd('/').EndsWith("/api/annotations", StringComparison.Ordinal))
        {
            return channel.Uri;
        }

        var root = channel.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(root + "/api/annotations");
    }

    /// <summary>The body each service's incoming webhook expects.</summary>
    public static JObject Payload(NotificationChannel channel, FlagNotification n) => channel.Kind switch
    {
        NotificationChannel.Slack => new JObject
        {
            ["text"] = n.Format == NotificationRenderer.MarkdownFormat ? n.Body : $"{n.Subject}\n\n{n.Body}",
            ["mrkdwn"] = n.Format == NotificationRenderer.MarkdownFormat,
        },
        NotificationChannel.Teams => new JObject
        {
            ["@type"] = "MessageCard",
            ["@context"] = "https://schema.org/extensions",
            ["summary"] = n.Subject,
            ["themeColor"] = n.Event == "rollback" ? "D13438" : "0078D7",
            ["title"] = n.Subject,
            ["text"] = n.Body,
        },
        NotificationChannel.Grafana => new JObject
        {
            ["time"] = n.CreatedAt.ToUnixTimeMilliseconds(),
            ["tags"] = new JArray(n.Flag, n.Environment, n.Event),
            ["text"] = n.Subject,
        },
        _ => new JObject
        {
            ["event"] = n.Event,
            ["flag"] = n.Flag,
            ["environment"] = n.Environment,
            ["template"] = n.Template,
            ["subject"] = n.Subject,
            ["body"] = n.Body,
            ["format"] = n.Format,
            ["created_at"] = n.CreatedAt.UtcDateTime.ToString("O"),
        },
    };

    private static string Reveal(SecureString secret)
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(pointer) ?? "";
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    private static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 200 ? line : line[..200] + "…";
    }

    public void Dispose() => client.Dispose();
}
