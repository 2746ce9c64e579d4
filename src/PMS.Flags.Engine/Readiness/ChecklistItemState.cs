namespace PMS.Flags.Engine.Readiness;

public enum ChecklistItemState
{
    /// <summary>Not approved yet.</summary>
    Pending,

    /// <summary>Approved by someone allowed to (with evidence that still checks out, for alert rules).</summary>
    Approved,

    /// <summary>A machine-evidence item whose evidence was found.</summary>
    Checked,

    /// <summary>A machine-evidence item whose evidence is not there (or no longer there).</summary>
    Missing,

    /// <summary>Approved for a different plan than the one being checked: the approval does not count.</summary>
    Void,
}
