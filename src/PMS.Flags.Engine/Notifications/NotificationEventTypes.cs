namespace PMS.Flags.Engine.Notifications;

/// <summary>The audit events a notification leaves: which channel (by name and host, never its URI), which event, and the outcome.</summary>
public static class NotificationEventTypes
{
    public const string Sent = "notification_sent";
    public const string Failed = "notification_failed";
}
