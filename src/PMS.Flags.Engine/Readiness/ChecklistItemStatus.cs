namespace PMS.Flags.Engine.Readiness;

/// <summary>One item as Test-FlagReadiness reports it: its state now, and who approved it, when, with what evidence.</summary>
public sealed class ChecklistItemStatus
{
    public required string Flag { get; init; }

    public required string Environment { get; init; }

    public required string Item { get; init; }

    public required string Title { get; init; }

    public required string Section { get; init; }

    public ChecklistEvidence Evidence { get; init; }

    public ChecklistItemState State { get; init; }

    public string? ApprovedBy { get; init; }

    public DateTimeOffset? ApprovedAt { get; init; }

    /// <summary>What the approver gave (text, a URI or a path), or what the ledger showed for a checked item.</summary>
    public string? EvidenceText { get; init; }

    /// <summary>Why the item is in its state, in a sentence.</summary>
    public string? Detail { get; init; }

    public bool Satisfied => State is ChecklistItemState.Approved or ChecklistItemState.Checked;

    public override string ToString() => $"{Item}: {State}";
}
