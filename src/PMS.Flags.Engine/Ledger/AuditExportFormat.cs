namespace PMS.Flags.Engine.Ledger;

public enum AuditExportFormat
{
    Json,
    Csv,
    Html,

    /// <summary>The ledger's own lines, one per event: an export of a whole trail verifies as a ledger file does.</summary>
    Jsonl,
}
