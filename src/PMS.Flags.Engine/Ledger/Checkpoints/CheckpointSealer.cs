namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// Seals a ledger head: signs (sequence, head hash, length, time, previous signature, key) and appends it to the store.
/// Called under the ledger's writers' lock, so the checkpoint chain follows the ledger's order.
/// </summary>
public sealed class CheckpointSealer
{
    public CheckpointSealer(CheckpointSigner signer, ICheckpointStore store)
    {
        Signer = signer;
        Store = store;
    }

    public CheckpointSigner Signer { get; }

    public ICheckpointStore Store { get; }

    /// <summary>Returns the new checkpoint, or the last one when it already seals this head (nothing new to sign).</summary>
    public Checkpoint Seal(long sequence, string headHash, long? ledgerLength, DateTimeOffset now)
    {
        var last = Store.ReadLast();
        if (last is not null && last.Sequence == sequence && string.Equals(last.HeadHash, headHash, StringComparison.Ordinal) && last.KeyFingerprint == Signer.Fingerprint)
        {
            return last;
        }

        var checkpoint = Signer.Sign(new Checkpoint
        {
            Sequence = sequence,
            HeadHash = headHash,
            LedgerLength = ledgerLength,
            Timestamp = now.ToUniversalTime(),
            PreviousSignature = last?.Signature,
            KeyFingerprint = Signer.Fingerprint,
        });
        Store.Append(checkpoint);
        return checkpoint;
    }
}
