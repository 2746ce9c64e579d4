namespace PMS.Flags.Engine.Rollbacks;

/// <summary>One step of a rollback with its own timing, so an incident review can see where the minutes went.</summary>
public sealed class RollbackStep
{
    public RollbackStep(string name, string status, DateTimeOffset startedAt, TimeSpan duration, string? message)
    {
        Name = name;
        Status = status;
        StartedAt = startedAt;
        Duration = duration;
        Message = message;
    }

    public string Name { get; }

    /// <summary>Succeeded, Failed, Spooled or Skipped.</summary>
    public string Status { get; }

    public DateTimeOffset StartedAt { get; }

    public TimeSpan Duration { get; }

    public string? Message { get; }

    public override string ToString() => $"{Name}: {Status} ({Duration.TotalMilliseconds:0} ms)";
}
