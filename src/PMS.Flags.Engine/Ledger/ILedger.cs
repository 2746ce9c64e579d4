namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The append-only, hash-chained audit trail: the single source of truth for what happened.
/// Implementations: JsonlLedger (a local file) and, later, PostgresLedger. Every failure is a
/// <see cref="LedgerException"/> whose <see cref="LedgerFailure"/> tells the caller what to do.
/// </summary>
public interface ILedger : IAsyncDisposable
{
    /// <summary>A display name (path or host/database), never a secret.</summary>
    string Name { get; }

    /// <summary>
    /// The same for every spelling of the same ledger (a canonical path, a database identity), never a secret: spooled
    /// events are keyed by it, so they reach the ledger whichever path or alias the next session uses.
    /// </summary>
    string Identity { get; }

    /// <summary>Fails (Unavailable or Refused) when an append could not succeed now; used before a change that must be audited first.</summary>
    Task EnsureWritableAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends the drafts as one unit -- all of them, consecutively, or none -- assigning sequences and the hash chain,
    /// and returns them once they are durable. With <paramref name="expectation"/>, fails with a Conflict if an event
    /// of that stream was appended after <see cref="LedgerExpectation.ReadAt"/>. With <paramref name="skipKnownEventIds"/>,
    /// drafts whose event_id is already in the ledger are not appended again (replaying a spool); the stored event is
    /// returned in their place.
    /// </summary>
    Task<IReadOnlyList<AuditEvent>> AppendAsync(IReadOnlyList<AuditEvent> drafts, LedgerExpectation? expectation, bool skipKnownEventIds, CancellationToken cancellationToken);

    Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<AuditEvent> ReadAsync(AuditQuery query, CancellationToken cancellationToken);

    Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken);
}
