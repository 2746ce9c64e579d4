namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The append-only, hash-chained audit trail: the single source of truth for what happened.
/// Implementations: JsonlLedger (a local file) and, later, PostgresLedger.
/// </summary>
public interface ILedger
{
    /// <summary>A display name (path or host/database), never a secret.</summary>
    string Name { get; }

    /// <summary>
    /// Fails when an append could not succeed now -- LedgerUnwritable, or LedgerTornTail / LedgerMalformed for a ledger whose
    /// last line cannot be chained to; used before a change that must be audited first.
    /// </summary>
    void EnsureWritable();

    /// <summary>
    /// Appends one event, assigning sequence and hash chain, and returns it once it is durable.
    /// With <paramref name="expectedHeadSequence"/>, fails with LedgerHeadMoved if another writer appended first.
    /// </summary>
    Task<AuditEvent> AppendAsync(AuditEvent draft, long? expectedHeadSequence, CancellationToken cancellationToken);

    Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken);

    IEnumerable<AuditEvent> Read(AuditQuery query, CancellationToken cancellationToken);

    ChainVerification Verify(CancellationToken cancellationToken);
}
