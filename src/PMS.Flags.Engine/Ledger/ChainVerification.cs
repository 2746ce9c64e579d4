namespace PMS.Flags.Engine.Ledger;

/// <summary>The verdict on a ledger's hash chain. Problem is one of: modified, deleted, inserted, reordered.</summary>
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

    public override string ToString() => Valid ? $"Valid: {Count} events" : $"Broken at #{FirstBrokenSequence}: {Problem}";
}
