using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// Verifies a JSONL ledger against its checkpoints. The checkpoint file is streamed once to check every signature and
/// the chain of signatures; the ledger is then streamed once, checking that it still holds the head the LAST checkpoint
/// sealed (the hash chain makes that one check cover every earlier event) and, when given, a head an auditor kept.
/// </summary>
public static class CheckpointVerifier
{
    /// <param name="keys">Trusted public keys; null checks the checkpoints' consistency with the ledger but not their signatures.</param>
    /// <param name="expectedHead">A head hash kept elsewhere (an auditor's copy, a CI log): rolled_back when it is gone.</param>
    public static ChainVerification Verify(JsonlLedger ledger, ICheckpointStore store, CheckpointKeyRing? keys, string? expectedHead, int pending, CancellationToken cancellationToken)
        => Verify(options => ledger.Verify(options, 0, cancellationToken), store, keys, expectedHead, pending);

    /// <summary>The PostgreSQL ledger against its checkpoints table: the same checks, the chain streamed from its rows.</summary>
    public static ChainVerification Verify(Postgres.PostgresLedger ledger, ICheckpointStore store, CheckpointKeyRing? keys, string? expectedHead, int pending, CancellationToken cancellationToken)
        => Verify(options => ledger.Verify(options, cancellationToken), store, keys, expectedHead, pending);

    private static ChainVerification Verify(Func<ChainScanOptions, ChainVerification> scan, ICheckpointStore store, CheckpointKeyRing? keys, string? expectedHead, int pending)
    {
        Sha256Value? kept = null;
        if (expectedHead is not null)
        {
            kept = Sha256Value.TryParse(expectedHead.Trim(), out var parsed)
                ? parsed
                : throw new FlagsException("ExpectedHeadInvalid", FlagsErrorKind.InvalidArgument, $"-ExpectedHead '{expectedHead}' is not a SHA-256 hash (64 hexadecimal digits).", expectedHead);
        }

        var (last, signatureProblem) = ReadCheckpoints(store, keys);
        var options = new ChainScanOptions
        {
            Seal = last is null ? null : (last.Sequence, Sha256Value.TryParse(last.HeadHash, out var sealedHash) ? sealedHash : default),
            ExpectedHead = kept,
        };
        var verdict = scan(options);
        var verified = keys is not null && last is not null && signatureProblem is null && verdict.Valid;
        verdict = verdict.With(verified, last, pending);
        if (!verdict.Valid)
        {
            return verdict;
        }

        if (signatureProblem is { } problem)
        {
            return verdict.Broken(problem.Sequence, problem.Problem, problem.Message);
        }

        if (keys is not null && last is null && verdict.Count > 0)
        {
            return verdict.Broken(null, "checkpoint_missing", $"No checkpoint seals this ledger of {verdict.Count} event(s), although public keys were given: the checkpoint file '{store.Name}' is missing or empty.");
        }

        return verdict;
    }

    /// <summary>
    /// The last checkpoint and the first signature problem. Throws CheckpointKeyMismatch when keys were given but not one
    /// checkpoint names any of them: that is the wrong key file far more often than a forgery.
    /// </summary>
    private static (Checkpoint? Last, (long? Sequence, string Problem, string Message)? Problem) ReadCheckpoints(ICheckpointStore store, CheckpointKeyRing? keys)
    {
        Checkpoint? last = null;
        (long?, string, string)? problem = null;
        var anyKnown = false;
        long index = 0;
        foreach (var checkpoint in store.ReadAll())
        {
            index++;
            anyKnown |= keys?.Knows(checkpoint.KeyFingerprint) == true;
            if (problem is null && keys is not null && !keys.Verifies(checkpoint))
            {
                problem = (checkpoint.Sequence, "signature_invalid", keys.Knows(checkpoint.KeyFingerprint)
                    ? $"Checkpoint {index} (sealing #{checkpoint.Sequence}) has a signature that does not verify: it was forged or altered."
                    : $"Checkpoint {index} (sealing #{checkpoint.Sequence}) is signed by key {checkpoint.KeyFingerprint}, which is not among the trusted public keys (after a key rotation, pass the old public key too).");
            }

            if (problem is null && last is null && checkpoint.PreviousSignature is not null)
            {
                problem = (checkpoint.Sequence, "checkpoint_missing", $"The first checkpoint (sealing #{checkpoint.Sequence}) chains to an earlier one that is no longer in '{store.Name}'.");
            }

            if (problem is null && last is not null && (checkpoint.PreviousSignature != last.Signature || checkpoint.Sequence < last.Sequence))
            {
                problem = (checkpoint.Sequence, "signature_invalid", $"Checkpoint {index} (sealing #{checkpoint.Sequence}) does not chain to the checkpoint before it: a checkpoint was removed, reordered or forged.");
            }

            last = checkpoint;
        }

        if (keys is not null && index > 0 && !anyKnown)
        {
            throw new FlagsException("CheckpointKeyMismatch", FlagsErrorKind.InvalidArgument, $"None of the {index} checkpoint(s) in '{store.Name}' is signed by the given public key(s) ({string.Join(", ", keys.Fingerprints.Select(f => f[..16]))}…): pass the public key of the signing key.", store.Name);
        }

        return (last, problem);
    }
}
