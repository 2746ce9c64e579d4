namespace PMS.Flags.Engine.Rollouts;

/// <summary>Who asks for a manual rollout action (Suspend, Resume, Stop) and why: it goes into the audit record.</summary>
public sealed class RolloutActor
{
    public required string User { get; init; }

    public required string Reason { get; init; }

    /// <summary>Optional; Resume falls back to the rollout's own ticket.</summary>
    public string? ApprovalTicket { get; init; }
}
