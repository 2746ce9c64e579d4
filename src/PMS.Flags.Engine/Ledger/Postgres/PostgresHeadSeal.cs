using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// New-FlagAuditCheckpoint on a PostgreSQL ledger. The ledger seals inside the append's own transaction, under the
/// append advisory lock, so recording the ledger_checkpoint_sealed event through a ledger whose sealer holds the
/// chosen key commits the event and the checkpoint over it together: no other agent's append can come between them,
/// and a seal never covers an event that did not commit.
/// </summary>
public static class PostgresHeadSeal
{
    private static readonly SemaphoreSlim OnDemand = new(1, 1);

    /// <param name="record">Records the draft through the audit trail (so it carries the principal like every event).</param>
    public static async Task<Checkpoint> SealAsync(PostgresLedger ledger, CheckpointSigner signer, Func<AuditEvent, Task<AuditRecord>> record, AuditEvent draft, CancellationToken cancellationToken)
    {
        AuditRecord recorded;
        await OnDemand.WaitAsync(cancellationToken).ConfigureAwait(false);
        var connected = ledger.Sealer;
        try
        {
            // The ledger has no per-append sealer argument, so the chosen key is lent to it for this one append. Another
            // append from this process in that moment is sealed with it too, which is a valid seal, never a missing one.
            if (connected?.Signer.Fingerprint != signer.Fingerprint)
            {
                ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
            }

            recorded = await record(draft).ConfigureAwait(false);
        }
        finally
        {
            ledger.Sealer = connected;
            OnDemand.Release();
        }

        if (recorded.Spooled)
        {
            throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The ledger {ledger.Name} could not record the checkpoint event (it was spooled and is written on the next connection), so its head was not sealed. Run New-FlagAuditCheckpoint again once the database is reachable.", ledger.Name);
        }

        // The append treats a failed seal as a warning (its events are durable either way); here the seal is the point.
        var sealing = ledger.Checkpoints.FindSealing(recorded.Event.Sequence, recorded.Event.Hash!, signer.Fingerprint);
        return sealing ?? throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The ledger {ledger.Name} recorded the checkpoint event as #{recorded.Event.Sequence}, but the checkpoint over it could not be written to {ledger.Checkpoints.Name}; run New-FlagAuditCheckpoint again.", ledger.Name) { ChangeWasMade = true };
    }
}
