using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// A flag's checklist in one environment as its ledger stream says: the newest checklist_created event (a new checklist
/// replaces the previous one, whose approvals then no longer count) and the approvals recorded for it since.
/// </summary>
internal sealed class ChecklistFold
{
    private ChecklistFold(AuditEvent? created, IReadOnlyList<AuditEvent> approvals)
    {
        Created = created;
        Approvals = approvals;
        if (created is not null)
        {
            var details = Details(created);
            Template = ChecklistTemplate.FromRecorded((string?)details["template"] ?? "", details["items"] as JArray ?? new JArray());
            FourEyes = (bool?)details["four_eyes"] ?? false;
            Plan = details["plan"] is JObject plan ? PlanFingerprint.FromRecorded(plan) : null;
        }
    }

    public AuditEvent? Created { get; }

    public string? Id => Created?.EventId;

    public ChecklistTemplate? Template { get; }

    public bool FourEyes { get; }

    public PlanFingerprint? Plan { get; }

    /// <summary>Approvals of this checklist, oldest first.</summary>
    public IReadOnlyList<AuditEvent> Approvals { get; }

    public static ChecklistFold From(IEnumerable<AuditEvent> streamEvents)
    {
        AuditEvent? created = null;
        var approvals = new List<AuditEvent>();
        foreach (var e in streamEvents)
        {
            if (string.Equals(e.EventType, ChecklistEventTypes.Created, StringComparison.OrdinalIgnoreCase))
            {
                created = e;
                approvals.Clear();
            }
            else if (created is not null && string.Equals(e.EventType, ChecklistEventTypes.ItemApproved, StringComparison.OrdinalIgnoreCase)
                     && string.Equals((string?)Details(e)["checklist_id"], created.EventId, StringComparison.OrdinalIgnoreCase))
            {
                approvals.Add(e);
            }
        }

        return new ChecklistFold(created, approvals);
    }

    public AuditEvent? ApprovalOf(string item)
        => Approvals.FirstOrDefault(a => string.Equals((string?)Details(a)["item"], item, StringComparison.OrdinalIgnoreCase));

    public static JObject Details(AuditEvent e) => e.DetailsObject();

    public FlagsException NotFound(string flag, string environment)
        => new("ChecklistNotFound", FlagsErrorKind.ObjectNotFound, $"'{flag}' has no checklist in '{environment}'. New-FlagChecklist -Flag {flag} -Environment {environment} creates one.", flag);
}
