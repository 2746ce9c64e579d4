namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Judges links as they stream by, keeping only a running state: every accepted event so far is exactly
/// #first..#(expected-1), so "seen before" is a range check. After the first break it only counts lines and, for a
/// gap, watches whether the missing number turns up later (reordered) or never does (deleted).
/// </summary>
internal sealed class ChainJudge
{
    private readonly string ledgerName;
    private readonly ChainScanOptions options;
    private long expected;
    private Sha256Value? previousHash;
    private long count;
    private long? gapLine;
    private long gapSequence;
    private long gapMissing;
    private bool missingSeenLater;
    private ChainVerification? broken;
    private bool expectedHeadFound;

    public ChainJudge(string ledgerName, ChainScanOptions options)
    {
        this.ledgerName = ledgerName;
        this.options = options;
        expected = options.FirstSequence;
        previousHash = options.HashBefore;
    }

    public void Accept(IReadOnlyList<ChainLink> links)
    {
        foreach (var link in links)
        {
            count++;
            if (gapLine is not null)
            {
                missingSeenLater |= link.Sequence == gapMissing;
                continue;
            }

            if (broken is not null)
            {
                continue;
            }

            Judge(link);
        }
    }

    public ChainVerification Verdict()
    {
        if (gapLine is { } line)
        {
            return missingSeenLater
                ? Broken(gapMissing, "reordered", $"Line {line} holds event #{gapSequence} where #{gapMissing} was expected; #{gapMissing} appears later.")
                : Broken(gapMissing, "deleted", $"Event #{gapMissing} is missing: line {line} holds #{gapSequence}.");
        }

        if (broken is not null)
        {
            return new ChainVerification(ledgerName, false, count, broken.FirstBrokenSequence, broken.Problem, broken.Message, null);
        }

        var head = expected - 1;
        if (options.Seal is { } seal && head < seal.Sequence)
        {
            return Broken(head + 1, "truncated", $"The ledger ends at #{head}, but a checkpoint sealed #{seal.Sequence}: events #{head + 1}..#{seal.Sequence} were cut off.");
        }

        if (options.ExpectedHead is { } kept && !expectedHeadFound)
        {
            return new ChainVerification(ledgerName, false, count, null, "rolled_back", $"The head {kept} that was kept is no longer in the ledger: it was rolled back to an earlier state or rewritten.", null);
        }

        return new ChainVerification(ledgerName, true, count, null, null, null, previousHash?.ToString()) { HeadSequence = head };
    }

    private void Judge(ChainLink link)
    {
        if (link.Sequence is not { } sequence)
        {
            broken = Broken(expected, "modified", $"Line {link.Line} is not a readable audit event ({link.ParseError ?? "no sequence"}).");
            return;
        }

        if (sequence > expected)
        {
            gapLine = link.Line;
            gapSequence = sequence;
            gapMissing = expected;
            return;
        }

        if (sequence < expected)
        {
            broken = sequence >= 1
                ? Broken(sequence, "inserted", $"Line {link.Line} repeats event #{sequence}: an event was inserted.")
                : Broken(sequence, "reordered", $"Line {link.Line} holds event #{sequence} after #{expected - 1}.");
            return;
        }

        if (!link.HashValid)
        {
            broken = Broken(sequence, "modified", $"Event #{sequence} (line {link.Line}) does not match its hash: its content was changed.");
            return;
        }

        if (!link.PrevHashReadable || link.PrevHash != previousHash)
        {
            broken = Broken(sequence, "inserted", $"Event #{sequence} (line {link.Line}) does not chain to the event before it: an event was inserted or replaced.");
            return;
        }

        if (options.Seal is { } seal && seal.Sequence == sequence && seal.Hash != link.Hash)
        {
            // The chain holds, yet the sealed event's hash differs: the ledger up to here was rewritten consistently.
            broken = Broken(sequence, "modified", $"Event #{sequence} (line {link.Line}) is not the event a checkpoint sealed: the ledger up to #{sequence} was rewritten.");
            return;
        }

        expectedHeadFound |= options.ExpectedHead is { } kept && kept == link.Hash;
        previousHash = link.Hash;
        expected++;
    }

    private ChainVerification Broken(long sequence, string problem, string message)
        => new(ledgerName, false, count, sequence, problem, message, null);
}
