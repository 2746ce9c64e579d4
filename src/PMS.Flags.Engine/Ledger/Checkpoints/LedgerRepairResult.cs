namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>What Repair-FlagLedger did: the quarantine file and the SHA-256 of the bytes moved there, and the event that records it.</summary>
public sealed class LedgerRepairResult
{
    public string Ledger { get; init; } = "";

    public string QuarantinePath { get; init; } = "";

    public long QuarantinedBytes { get; init; }

    public string QuarantinedSha256 { get; init; } = "";

    /// <summary>The ledger_repaired event's sequence; null when the event had to be spooled.</summary>
    public long? Sequence { get; init; }

    public override string ToString() => $"{QuarantinedBytes} byte(s) moved to {QuarantinePath}";
}
