namespace PMS.Flags.Engine.Flags;

/// <summary>An operator's request to change a flag, with everything its audit record needs.</summary>
public sealed class FlagMutation
{
    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required FlagChangeKind Kind { get; init; }

    public decimal? Percentage { get; init; }

    public string? Reason { get; init; }

    public string? ApprovalTicket { get; init; }

    public required string User { get; init; }

    public string? RolloutId { get; init; }

    public string? Rule { get; init; }

    /// <summary>The comment a store with its own audit log (LaunchDarkly) keeps: reason and ticket, never a secret.</summary>
    public string Comment => ApprovalTicket is null ? $"PMS.Flags: {Reason}" : $"PMS.Flags: {ApprovalTicket} — {Reason}";

    public FlagChange ToChange() => new(Flag, Environment, Kind, Percentage, Comment, Rule);
}
