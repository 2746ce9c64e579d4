namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// What a chain scan starts from and checks on the way: the first expected sequence and the hash before it (a scan
/// that starts at a checkpoint instead of at #1), the head a checkpoint sealed, and a head an auditor kept.
/// </summary>
public sealed class ChainScanOptions
{
    public static readonly ChainScanOptions FromStart = new();

    public long FirstSequence { get; init; } = 1;

    public Sha256Value? HashBefore { get; init; }

    /// <summary>The sequence and hash a checkpoint sealed: the event with that sequence must have exactly that hash.</summary>
    public (long Sequence, Sha256Value Hash)? Seal { get; init; }

    /// <summary>A head hash kept elsewhere: it must still be the hash of some event in the ledger.</summary>
    public Sha256Value? ExpectedHead { get; init; }
}
