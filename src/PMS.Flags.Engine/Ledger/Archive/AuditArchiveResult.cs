namespace PMS.Flags.Engine.Ledger.Archive;

/// <summary>The outcome of Save-FlagAuditArchive: which events (FirstSequence..LastSequence) went into which file.</summary>
public sealed class AuditArchiveResult
{
    public AuditArchiveResult(string path, DateTimeOffset before, long count, long firstSequence, long lastSequence, string? headHash, string? sha256)
    {
        Path = path;
        Before = before;
        Count = count;
        FirstSequence = firstSequence;
        LastSequence = lastSequence;
        HeadHash = headHash;
        Sha256 = sha256;
    }

    public string Path { get; }

    public DateTimeOffset Before { get; }

    public long Count { get; }

    public long FirstSequence { get; }

    public long LastSequence { get; }

    /// <summary>The hash of the last archived event: the chain's head at the cut, which the ledger's next event links to.</summary>
    public string? HeadHash { get; }

    /// <summary>SHA-256 of the archive file's bytes (null until written), recorded in the audit_archived event.</summary>
    public string? Sha256 { get; }

    public override string ToString() => $"{Count} event(s) (#{FirstSequence}..#{LastSequence}) archived to {Path}";
}
