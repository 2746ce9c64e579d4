namespace PMS.Flags.Engine.Readiness;

/// <summary>One item of a checklist template: a stable name to approve it by, the playbook's wording, and how it is satisfied.</summary>
public sealed class ChecklistItemDefinition
{
    public required string Name { get; init; }

    public required string Title { get; init; }

    public required string Section { get; init; }

    public ChecklistEvidence Evidence { get; init; } = ChecklistEvidence.Approval;

    public override string ToString() => $"{Name}: {Title}";
}
