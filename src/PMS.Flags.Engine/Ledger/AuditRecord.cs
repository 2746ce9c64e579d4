namespace PMS.Flags.Engine.Ledger;

/// <summary>Where an audit event ended up: in the ledger (with its sequence) or in the local spool awaiting a flush.</summary>
public sealed class AuditRecord
{
    public AuditRecord(AuditEvent auditEvent, bool spooled, string? spoolPath)
    {
        Event = auditEvent;
        Spooled = spooled;
        SpoolPath = spoolPath;
    }

    public AuditEvent Event { get; }

    public bool Spooled { get; }

    public string? SpoolPath { get; }

    public long? Sequence => Spooled ? null : Event.Sequence;
}
