namespace PMS.Flags.Engine.Flags;

/// <summary>The result of a flag change as the user sees it: before, after, who, why, and where its audit record went.</summary>
public sealed class FlagChangeRecord
{
    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public bool On { get; init; }

    public decimal? Percentage { get; init; }

    public bool? PreviousOn { get; init; }

    public decimal? PreviousPercentage { get; init; }

    public bool Changed { get; init; }

    public required string Store { get; init; }

    public string? Version { get; init; }

    public DateTimeOffset Timestamp { get; init; }

    public required string User { get; init; }

    public string? Reason { get; init; }

    public string? ApprovalTicket { get; init; }

    public long? AuditSequence { get; init; }

    public bool AuditSpooled { get; init; }

    public override string ToString() => $"{Flag} [{Environment}] {(PreviousOn == true ? "on" : "off")} {PreviousPercentage}% -> {(On ? "on" : "off")} {Percentage}%";
}
