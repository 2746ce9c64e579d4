namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// The outcome of Copy-FlagAudit: the target held AlreadyPresent of the source's events and received Copied more, and
/// held CheckpointsAlreadyPresent of the source's checkpoints and received CheckpointsCopied more.
/// </summary>
public sealed class LedgerCopyResult
{
    public LedgerCopyResult(string from, string to, long alreadyPresent, long copied, string? headHash)
        : this(from, to, alreadyPresent, copied, headHash, 0, 0)
    {
    }

    public LedgerCopyResult(string from, string to, long alreadyPresent, long copied, string? headHash, long checkpointsAlreadyPresent, long checkpointsCopied)
    {
        From = from;
        To = to;
        AlreadyPresent = alreadyPresent;
        Copied = copied;
        HeadHash = headHash;
        CheckpointsAlreadyPresent = checkpointsAlreadyPresent;
        CheckpointsCopied = checkpointsCopied;
    }

    public string From { get; }

    public string To { get; }

    public long AlreadyPresent { get; }

    public long Copied { get; }

    /// <summary>The source's last hash, which the target's event of the same sequence now carries.</summary>
    public string? HeadHash { get; }

    /// <summary>The source's checkpoints the target already held (from an interrupted copy), unchanged.</summary>
    public long CheckpointsAlreadyPresent { get; }

    /// <summary>The source's signed checkpoints written to the target (in a plan: that would be written).</summary>
    public long CheckpointsCopied { get; }

    public override string ToString() => $"{Copied} event(s) and {CheckpointsCopied} checkpoint(s) copied from {From} to {To}";
}
