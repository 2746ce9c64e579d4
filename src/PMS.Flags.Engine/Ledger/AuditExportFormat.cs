namespace PMS.Flags.Engine.Ledger;

public enum AuditExportFormat
{
    Json,
    Csv,
    Html,
}
