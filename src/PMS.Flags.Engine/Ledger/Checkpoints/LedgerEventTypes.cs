namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>Events about the ledger itself rather than about a flag.</summary>
public static class LedgerEventTypes
{
    /// <summary>Repair-FlagLedger moved a torn tail to a quarantine file; details hold the file and the bytes' SHA-256.</summary>
    public const string Repaired = "ledger_repaired";

    /// <summary>New-FlagAuditCheckpoint sealed the head on demand (the checkpoint that follows covers this event too).</summary>
    public const string CheckpointSealed = "ledger_checkpoint_sealed";
}
