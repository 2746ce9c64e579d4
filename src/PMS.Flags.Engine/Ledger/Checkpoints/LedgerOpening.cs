using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// Verification when a ledger is opened, so a tampered or torn ledger is not silently written on top of: the events
/// since the last checkpoint are hashed (all of them when there is none), starting at the checkpoint's byte offset
/// (JSONL) or after the sealed row (PostgreSQL), so the cost follows what is unsealed, not the ledger's length.
/// </summary>
public static class LedgerOpening
{
    /// <summary>Throws LedgerTampered or LedgerTornTail naming the sequence; with <paramref name="skip"/>, records the skip on the ledger instead.</summary>
    public static ChainVerification Verify(ILedger ledger, bool skip, CheckpointKeyRing? keys, CancellationToken cancellationToken)
    {
        if (ledger is Postgres.PostgresLedger postgres)
        {
            return VerifyPostgres(postgres, skip, keys, cancellationToken);
        }

        if (ledger is not JsonlLedger jsonl)
        {
            return ledger.VerifyAsync(cancellationToken).GetAwaiter().GetResult();
        }

        var verdict = VerifySinceLastCheckpoint(jsonl, keys, cancellationToken);
        if (verdict.Valid)
        {
            return verdict;
        }

        if (skip)
        {
            jsonl.SkippedVerification = $"{verdict.Problem} at #{verdict.FirstBrokenSequence} ({DateTimeOffset.UtcNow:O})";
            return verdict;
        }

        throw verdict.Problem == "torn_tail"
            ? new LedgerException(LedgerFailure.Refused, "LedgerTornTail", FlagsErrorKind.InvalidData, $"The ledger '{jsonl.Path}' ends in an incomplete line after #{verdict.FirstBrokenSequence - 1} (an interrupted write): run Repair-FlagLedger, or pass -SkipVerification. {verdict.Message}", jsonl.Path)
            : new LedgerException(LedgerFailure.Refused, "LedgerTampered", FlagsErrorKind.InvalidData, $"The ledger '{jsonl.Path}' failed verification at #{verdict.FirstBrokenSequence} ({verdict.Problem}): {verdict.Message} Nothing was written; run Test-FlagAuditChain, or pass -SkipVerification to use it anyway (recorded in the next event).", jsonl.Path);
    }

    /// <summary>
    /// From the seal on, like a JSONL ledger: when the row the last checkpoint sealed is still there with that sequence
    /// and hash (and the checkpoint's signature verifies), only the rows after it are read, by a range scan of the
    /// primary key. Otherwise, or with no checkpoint, the whole chain is read and the verdict names what happened
    /// (rows deleted or rewritten by someone who disabled the append-only triggers). With <paramref name="skip"/>, a
    /// failed verdict is returned for the caller to warn about, and recorded in the next event, instead of thrown.
    /// </summary>
    public static ChainVerification VerifyPostgres(Postgres.PostgresLedger ledger, bool skip, CheckpointKeyRing? keys, CancellationToken cancellationToken)
    {
        var verdict = VerifyPostgresSinceLastCheckpoint(ledger, keys, cancellationToken);
        if (verdict.Valid)
        {
            return verdict;
        }

        if (skip)
        {
            ledger.SkippedVerification = $"{verdict.Problem} at #{verdict.FirstBrokenSequence} ({DateTimeOffset.UtcNow:O})";
            return verdict;
        }

        throw new LedgerException(LedgerFailure.Refused, "LedgerTampered", FlagsErrorKind.InvalidData, $"The ledger {ledger.Name} failed verification at #{verdict.FirstBrokenSequence} ({verdict.Problem}): {verdict.Message} Nothing was written; run Test-FlagAuditChain, or pass -SkipVerification to use it anyway (recorded in the next event).", ledger.Name);
    }

    public static ChainVerification VerifyPostgresSinceLastCheckpoint(Postgres.PostgresLedger ledger, CheckpointKeyRing? keys, CancellationToken cancellationToken)
    {
        var last = ledger.Checkpoints.ReadLast();
        if (last is null)
        {
            return ledger.Verify(ChainScanOptions.FromStart, cancellationToken).With(false, null, 0);
        }

        Sha256Value.TryParse(last.HeadHash, out var sealedHash);
        var sealedOptions = new ChainScanOptions { Seal = (last.Sequence, sealedHash) };
        ChainVerification Whole() => ledger.Verify(sealedOptions, cancellationToken).With(false, last, 0);
        if (keys is not null && keys.Knows(last.KeyFingerprint) && !keys.Verifies(last))
        {
            // A broken chain is the bigger news; a forged checkpoint on an intact chain is named as such.
            var whole = Whole();
            return whole.Valid ? whole.Broken(last.Sequence, "signature_invalid", $"The last checkpoint (sealing #{last.Sequence}) has a signature that does not verify.") : whole;
        }

        var sealedLine = ledger.ReadLine(last.Sequence, cancellationToken);
        var link = sealedLine is null ? default : ChainVerifier.ReadLink(sealedLine, 0);
        if (sealedLine is null || link.Sequence != last.Sequence || !link.HashValid || link.Hash != sealedHash)
        {
            // The sealed row is gone or is not what was sealed: the whole scan says where (truncated, modified).
            var whole = Whole();
            return whole.Valid ? whole.Broken(last.Sequence, "modified", $"Event #{last.Sequence} is not the event the last checkpoint sealed.") : whole;
        }

        return ledger.Verify(new ChainScanOptions { FirstSequence = last.Sequence + 1, HashBefore = sealedHash }, cancellationToken).With(false, last, 0);
    }

    public static ChainVerification VerifySinceLastCheckpoint(JsonlLedger ledger, CheckpointKeyRing? keys, CancellationToken cancellationToken)
    {
        var last = ledger.Checkpoints.ReadLast();
        if (last is null)
        {
            return ledger.Verify(ChainScanOptions.FromStart, 0, cancellationToken);
        }

        Sha256Value.TryParse(last.HeadHash, out var sealedHash);
        var sealedOptions = new ChainScanOptions { Seal = (last.Sequence, sealedHash) };
        ChainVerification Whole() => ledger.Verify(sealedOptions, 0, cancellationToken).With(false, last, 0);
        if (keys is not null && keys.Knows(last.KeyFingerprint) && !keys.Verifies(last))
        {
            return Whole().Broken(last.Sequence, "signature_invalid", $"The last checkpoint (sealing #{last.Sequence}) has a signature that does not verify.");
        }

        if (last.LedgerLength is not { } offset)
        {
            return Whole();
        }

        var (complete, _) = File.Exists(ledger.Path) ? ledger.SnapshotExtent(cancellationToken) : (0, 0);
        if (complete < offset)
        {
            // Shorter than it was when sealed: the whole-chain scan names it (truncated, or where it was cut).
            return Whole();
        }

        var sealedLine = ledger.LineEndingAt(offset);
        var link = sealedLine is null ? default : ChainVerifier.ReadLink(sealedLine, 0);
        if (sealedLine is null || link.Sequence != last.Sequence || !link.HashValid || link.Hash != sealedHash)
        {
            // The sealed event is not where and what it was: rewritten before the seal. Let the whole scan locate it.
            var whole = Whole();
            return whole.Valid ? whole.Broken(last.Sequence, "modified", $"Event #{last.Sequence} is not the event the last checkpoint sealed at byte {offset}.") : whole;
        }

        return ledger.Verify(new ChainScanOptions { FirstSequence = last.Sequence + 1, HashBefore = sealedHash }, offset, cancellationToken).With(false, last, 0);
    }
}
