namespace PMS.Flags.Engine.Readiness;

/// <summary>Every item of the flag's current checklist in one environment and the overall verdict.</summary>
public sealed class ReadinessReport
{
    public required string Flag { get; init; }

    public required string Environment { get; init; }

    /// <summary>The checklist_created event's id; null when the flag has no checklist there.</summary>
    public string? ChecklistId { get; init; }

    public string? Template { get; init; }

    public string? CreatedBy { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>True when an item cannot be approved by the checklist's creator (a protected environment when it was made).</summary>
    public bool FourEyes { get; init; }

    /// <summary>The SHA-256 of the plan the checklist was made for; null when it was made without -Plan.</summary>
    public string? PlanHash { get; init; }

    /// <summary>How the plan being checked differs from the approved one (empty when it does not, or none was given).</summary>
    public IReadOnlyList<string> PlanChanges { get; init; } = Array.Empty<string>();

    public IReadOnlyList<ChecklistItemStatus> Items { get; init; } = Array.Empty<ChecklistItemStatus>();

    public bool Ready => ChecklistId is not null && Items.Count > 0 && Items.All(i => i.Satisfied);

    public string Verdict => ChecklistId is null ? "NoChecklist" : Ready ? "Ready" : "NotReady";

    public int Satisfied => Items.Count(i => i.Satisfied);

    public IReadOnlyList<string> Missing => Items.Where(i => !i.Satisfied).Select(i => i.Item).ToArray();

    public override string ToString() => $"{Flag} [{Environment}]: {Verdict} ({Satisfied}/{Items.Count})";
}
