using System.Globalization;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Writes audit events for auditors with the ledger's own snake_case field names (including the hash chain fields,
/// so an export can be re-verified), atomically and fsynced, so a half-written export never looks complete.
/// </summary>
public static class AuditExporter
{
    public static void Write(IReadOnlyCollection<AuditEvent> events, AuditExportFormat format, string path, ChainVerification? verdict = null)
    {
        var text = format switch
        {
            AuditExportFormat.Json => ToJson(events),
            AuditExportFormat.Html => AuditHtmlReport.Render(events, verdict, DateTimeOffset.UtcNow),
            _ => ToCsv(events),
        };
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            DirectorySync.Flush(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new FlagsException("ExportUnwritable", FlagsErrorKind.WriteError, $"Could not write '{path}': {ex.Message}", path, ex);
        }
    }

    public static string ToJson(IEnumerable<AuditEvent> events)
        => new JArray(events.Select(e => AuditEventCodec.ToJObject(e, includeHash: true))).ToString(Formatting.Indented) + "\n";

    public static string ToCsv(IEnumerable<AuditEvent> events)
    {
        var builder = new StringBuilder();
        string[]? header = null;
        foreach (var e in events)
        {
            var o = AuditEventCodec.ToJObject(e, includeHash: true);
            if (header is null)
            {
                header = o.Properties().Select(p => p.Name).ToArray();
                builder.AppendLine(string.Join(",", header));
            }

            builder.AppendLine(string.Join(",", header.Select(name => Cell(o[name]))));
        }

        if (header is null)
        {
            builder.AppendLine(string.Join(",", AuditEventCodec.ToJObject(new AuditEvent(), includeHash: true).Properties().Select(p => p.Name)));
        }

        return builder.ToString();
    }

    /// <summary>
    /// A text cell that starts with = + - @ (or a tab or carriage return) is a formula to a spreadsheet: a reason of
    /// "=HYPERLINK(...)" would run when an auditor opens the file. A leading single quote makes it text, as OWASP advises.
    /// Numbers are not text cells and keep their sign.
    /// </summary>
    public static string NeutralizeFormula(string text)
        => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

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
