namespace PMS.Flags.Engine.Notifications;

/// <summary>What happened to one notification on one channel: sent or not, the answer or the failure, how long it took.</summary>
public sealed class NotificationDelivery
{
    public required string Channel { get; init; }

    public required string Kind { get; init; }

    /// <summary>Scheme and host only.</summary>
    public required string Endpoint { get; init; }

    public required string Event { get; init; }

    public required string Subject { get; init; }

    public bool Succeeded { get; init; }

    public int? StatusCode { get; init; }

    /// <summary>Why it failed (timeout, refused, HTTP status and the receiver's words), with the URI scrubbed; null when sent.</summary>
    public string? Error { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>The ledger sequence of the notification_sent / notification_failed event; null when it was spooled or not recorded.</summary>
    public long? AuditSequence { get; init; }

    public override string ToString() => Succeeded
        ? $"{Event} sent to {Channel} ({Kind}) in {Elapsed.TotalMilliseconds:0} ms"
        : $"{Event} NOT sent to {Channel} ({Kind}): {Error}";
}
