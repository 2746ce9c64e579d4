namespace PMS.Flags.Engine.Readiness;

/// <summary>The events of a pre-deployment checklist and of the readiness gate; listed in AuditEventTypes.</summary>
public static class ChecklistEventTypes
{
    public const string Created = "checklist_created";
    public const string ItemApproved = "checklist_item_approved";
    public const string ReadinessOverridden = "readiness_overridden";

    public static readonly IReadOnlyList<string> Checklist = new[] { Created, ItemApproved };
}
