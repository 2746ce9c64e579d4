namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The verdict on a ledger's hash chain. Problem is one of: modified, deleted, inserted, reordered, and with
/// checkpoints truncated, signature_invalid, checkpoint_missing, rolled_back; and torn_tail.
/// </summary>
public sealed class ChainVerification
{
    public ChainVerification(string ledger, bool valid, long count, long? firstBrokenSequence, string? problem, string? message, string? headHash)
    {
        Ledger = ledger;
        Valid = valid;
        Count = count;
        FirstBrokenSequence = firstBrokenSequence;
        Problem = problem;
        Message = message;
        HeadHash = headHash;
    }

    public string Ledger { get; }

    public bool Valid { get; }

    public long Count { get; }

    public long? FirstBrokenSequence { get; }

    public string? Problem { get; }

    public string? Message { get; }

    /// <summary>The last event's hash: keep it somewhere else to detect a truncated tail later.</summary>
    public string? HeadHash { get; }

    /// <summary>The last event's sequence when the chain is valid (so a checkpoint can seal it).</summary>
    public long? HeadSequence { get; init; }

    /// <summary>True when the last checkpoint's signature holds under a trusted key and the ledger still holds the head it sealed.</summary>
    public bool CheckpointVerified { get; init; }

    /// <summary>The sequence the last checkpoint sealed (null without checkpoints).</summary>
    public long? SealedSequence { get; init; }

    /// <summary>The head hash the last checkpoint sealed: keep it off the machine and pass it back as -ExpectedHead.</summary>
    public string? SealedHead { get; init; }

    /// <summary>Events after the last checkpoint: not yet protected against truncation or a consistent rewrite.</summary>
    public long UnsealedCount { get; init; }

    /// <summary>Events spooled for this ledger and not yet in it (the change happened; its record waits for a flush).</summary>
    public int Pending { get; init; }

    public ChainVerification With(bool checkpointVerified, Checkpoints.Checkpoint? seal, int pending) => new(Ledger, Valid, Count, FirstBrokenSequence, Problem, Message, HeadHash)
    {
        HeadSequence = HeadSequence,
        CheckpointVerified = checkpointVerified,
        SealedSequence = seal?.Sequence,
        SealedHead = seal?.HeadHash,
        UnsealedCount = Math.Max(0, (HeadSequence ?? Count) - (seal?.Sequence ?? 0)),
        Pending = pending,
    };

    public ChainVerification Broken(long? sequence, string problem, string message) => new(Ledger, false, Count, sequence, problem, message, null)
    {
        HeadSequence = HeadSequence,
        SealedSequence = SealedSequence,
        SealedHead = SealedHead,
        UnsealedCount = UnsealedCount,
        Pending = Pending,
    };

    public override string ToString() => Valid ? $"Valid: {Count} events" : $"Broken at #{FirstBrokenSequence}: {Problem}";
}
