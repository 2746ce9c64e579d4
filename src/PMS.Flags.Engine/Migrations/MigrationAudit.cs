using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// The one place schema changes meet the ledger: checked writable before alembic runs (a change that cannot be audited
/// does not happen), then one migration_applied / migration_reverted / migration_stamped event with the revisions
/// before and after, whatever the outcome. Kept apart so a change of the ledger API touches only this class.
/// </summary>
internal sealed class MigrationAudit
{
    private readonly AuditTrail trail;
    private readonly string via;

    public MigrationAudit(AuditTrail trail, string via)
    {
        this.trail = trail;
        this.via = via;
    }

    public Task EnsureWritableAsync(CancellationToken cancellationToken) => trail.EnsureWritableAsync(cancellationToken);

    public Task<AuditRecord> RecordAsync(MigrationPlan plan, MigrationRequest request, DatabaseTarget database, string scriptLocation, IReadOnlyList<string> after, AlembicRun? run, string outcome, string? error, DateTimeOffset startedAt)
    {
        var details = new JObject
        {
            ["database"] = database.Name,
            ["script_location"] = scriptLocation,
            ["via"] = via,
            ["requested"] = plan.Requested,
            ["from_revisions"] = new JArray(plan.From),
            ["to_revisions"] = new JArray(after),
            ["target_revisions"] = new JArray(plan.Target),
            ["crossed"] = new JArray(plan.Crossed.Select(r => new JObject { ["revision"] = r.Revision, ["classification"] = r.Classification.ToString() })),
            ["allow_data_loss"] = request.AllowDataLoss,
            ["steps"] = new JArray((run?.Steps ?? Array.Empty<MigrationStep>()).Select(s => $"{s.Kind} {s.From} -> {s.To}")),
            ["alembic_exit_code"] = run?.ExitCode,
            ["duration_ms"] = (long)(DateTimeOffset.UtcNow - startedAt).TotalMilliseconds,
            ["error"] = error is null ? null : database.Mask(error),
            ["authenticated_principal"] = Environment.UserName,
        };
        var draft = new AuditEvent
        {
            EventType = MigrationEventTypes.For(plan.Action),
            UserId = request.User,
            Environment = request.Environment,
            Reason = request.Reason,
            ApprovalTicket = request.ApprovalTicket,
            Outcome = outcome,
            Details = details.ToString(Newtonsoft.Json.Formatting.None),
        };
        return trail.RecordAsync(draft, CancellationToken.None);
    }
}
