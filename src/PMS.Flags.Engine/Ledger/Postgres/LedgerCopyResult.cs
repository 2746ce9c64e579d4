namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>The outcome of Copy-FlagAudit: the target held AlreadyPresent of the source's events and received Copied more.</summary>
public sealed class LedgerCopyResult
{
    public LedgerCopyResult(string from, string to, long alreadyPresent, long copied, string? headHash)
    {
        From = from;
        To = to;
        AlreadyPresent = alreadyPresent;
        Copied = copied;
        HeadHash = headHash;
    }

    public string From { get; }

    public string To { get; }

    public long AlreadyPresent { get; }

    public long Copied { get; }

    /// <summary>The source's last hash, which the target's event of the same sequence now carries.</summary>
    public string? HeadHash { get; }

    public override string ToString() => $"{Copied} event(s) copied from {From} to {To}";
}
