using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Writes audit events for auditors with the ledger's own snake_case field names (including the hash chain fields,
/// so an export can be re-verified), atomically and fsynced, so a half-written export never looks complete. The
/// events are written as they are enumerated (see <see cref="AuditExportWriter"/>), never gathered first.
/// </summary>
public static class AuditExporter
{
    private static readonly string[] CsvFields = AuditEventCodec.ToJObject(new AuditEvent(), includeHash: true).Properties().Select(p => p.Name).ToArray();

    /// <summary>Every event has every field (null where it does not apply), so one header fits every row.</summary>
    public static string CsvHeader { get; } = string.Join(",", CsvFields) + Environment.NewLine;

    public static long Write(IEnumerable<AuditEvent> events, AuditExportFormat format, string path, ChainVerification? verdict = null)
    {
        using var writer = AuditExportWriter.Create(path, format, verdict, DateTimeOffset.UtcNow);
        foreach (var auditEvent in events)
        {
            writer.Write(auditEvent);
        }

        writer.Commit();
        return writer.Count;
    }

    /// <summary>
    /// A text cell that starts with = + - @ (or a tab or carriage return) is a formula to a spreadsheet: a reason of
    /// "=HYPERLINK(...)" would run when an auditor opens the file. A leading single quote makes it text, as OWASP advises.
    /// Numbers are not text cells and keep their sign.
    /// </summary>
    public static string NeutralizeFormula(string text)
        => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    /// <summary>
    /// The line the ledger stores for an event: its canonical form with the hash it was stored with. A recomputed hash
    /// would make a modified event look sound to the verifier; the stored one keeps the break where it is.
    /// </summary>
    internal static string StoredLine(AuditEvent auditEvent)
    {
        var line = AuditEventCodec.ToLine(auditEvent, out var computed);
        return auditEvent.Hash is { } stored && stored.Length == computed.Length && stored != computed
            ? string.Concat(line.AsSpan(0, line.Length - computed.Length - 2), stored, "\"}")
            : line;
    }

    internal static void WriteCsvRow(TextWriter writer, AuditEvent auditEvent)
    {
        var o = AuditEventCodec.ToJObject(auditEvent, includeHash: true);
        for (var i = 0; i < CsvFields.Length; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }

            writer.Write(Cell(o[CsvFields[i]]));
        }

        writer.Write(Environment.NewLine);
    }

    private static string Cell(JToken? token)
    {
        var text = token switch
        {
            null or { Type: JTokenType.Null } => "",
            JValue { Type: JTokenType.Boolean } b => (bool)b! ? "true" : "false",
            JValue { Type: JTokenType.String } s => NeutralizeFormula(s.Value as string ?? ""),
            JValue v => Convert.ToString(v.Value, CultureInfo.InvariantCulture) ?? "",
            _ => NeutralizeFormula(token.ToString(Formatting.None)),
        };

        // RFC 4180 quoting; values are otherwise kept as recorded (the JSON export keeps them byte for byte).
        return text.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0
            ? "\"" + text.Replace("\"", "\"\"") + "\""
            : text;
    }
}
