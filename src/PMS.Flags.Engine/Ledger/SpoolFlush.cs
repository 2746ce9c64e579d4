namespace PMS.Flags.Engine.Ledger;

/// <summary>What a spool flush did: events written, entries quarantined, and the ledger failure that stopped it, if any.</summary>
public sealed record SpoolFlush(int Flushed, int Quarantined, LedgerException? LedgerFailure)
{
    /// <summary>The events as the ledger holds them now (with their sequences), in spool order.</summary>
    public IReadOnlyList<AuditEvent> Stored { get; init; } = Array.Empty<AuditEvent>();
}
