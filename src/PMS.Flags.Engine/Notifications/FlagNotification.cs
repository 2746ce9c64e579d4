namespace PMS.Flags.Engine.Notifications;

/// <summary>A rendered message: what was said, about which flag and event, ready for any channel.</summary>
public sealed class FlagNotification
{
    public required string Template { get; init; }

    /// <summary>What happened, as annotation tags name it: rollout_started, stage_advanced, rollout_completed, rollback.</summary>
    public required string Event { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required string Subject { get; init; }

    public required string Body { get; init; }

    /// <summary>Text or Markdown.</summary>
    public required string Format { get; init; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public override string ToString() => Subject;
}
