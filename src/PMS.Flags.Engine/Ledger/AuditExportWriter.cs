using System.Text;
using Newtonsoft.Json;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Writes an export one event at a time, so a trail of millions of events costs the memory of one event: into a
/// temporary file beside the target that only <see cref="Commit"/> flushes, fsyncs and renames into place. Disposed
/// without a commit (the pipeline failed or was stopped), it deletes what it wrote, so the target is either the
/// complete export or untouched.
/// </summary>
public sealed class AuditExportWriter : IDisposable
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    private readonly string path;
    private readonly string temporary;
    private readonly AuditExportFormat format;
    private readonly FileStream stream;
    private readonly StreamWriter writer;
    private readonly JsonTextWriter? json;
    private readonly AuditHtmlReportWriter? html;
    private bool headerWritten;
    private bool done;

    private AuditExportWriter(string path, AuditExportFormat format, ChainVerification? verdict, DateTimeOffset generatedAt)
    {
        this.path = path;
        this.format = format;
        temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        writer = new StreamWriter(stream, Utf8NoBom, 1 << 16);
        switch (format)
        {
            case AuditExportFormat.Json:
                // Indented exactly as JArray.ToString(Formatting.Indented) put it when the export was built in memory.
                json = new JsonTextWriter(writer) { Formatting = Formatting.Indented, CloseOutput = false };
                json.WriteStartArray();
                break;
            case AuditExportFormat.Html:
                html = new AuditHtmlReportWriter(temporary, verdict, generatedAt);
                break;
        }
    }

    public long Count { get; private set; }

    /// <summary>Starts an export to <paramref name="path"/>; the target is not touched before <see cref="Commit"/>.</summary>
    public static AuditExportWriter Create(string path, AuditExportFormat format, ChainVerification? verdict, DateTimeOffset generatedAt)
    {
        try
        {
            return new AuditExportWriter(path, format, verdict, generatedAt);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(path, ex);
        }
    }

    public void Write(AuditEvent auditEvent)
    {
        ObjectDisposedException.ThrowIf(done, this);
        try
        {
            switch (format)
            {
                case AuditExportFormat.Json:
                    AuditEventCodec.ToJObject(auditEvent, includeHash: true).WriteTo(json!);
                    break;
                case AuditExportFormat.Html:
                    html!.Add(auditEvent);
                    break;
                case AuditExportFormat.Jsonl:
                    writer.Write(AuditExporter.StoredLine(auditEvent));
                    writer.Write('\n');
                    break;
                default:
                    WriteCsvHeader();
                    AuditExporter.WriteCsvRow(writer, auditEvent);
                    break;
            }

            Count++;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(path, ex);
        }
    }

    /// <summary>Completes the file, makes it durable and renames it over the target; the export exists only from here on.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(done, this);
        try
        {
            switch (format)
            {
                case AuditExportFormat.Json:
                    json!.WriteEndArray();
                    json.Flush();
                    writer.Write('\n');
                    break;
                case AuditExportFormat.Html:
                    html!.Finish(writer, stream);
                    break;
                case AuditExportFormat.Jsonl:
                    break;
                default:
                    WriteCsvHeader();
                    break;
            }

            writer.Flush();
            stream.Flush(flushToDisk: true);
            writer.Dispose();
            File.Move(temporary, path, overwrite: true);
            done = true;
            html?.Dispose();
            DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw Unwritable(path, ex);
        }
    }

    /// <summary>Without a commit: removes the temporary file (and the report's scratch files); the target stays as it was.</summary>
    public void Dispose()
    {
        html?.Dispose();
        if (done)
        {
            return;
        }

        done = true;
        try
        {
            writer.Dispose();
        }
        catch (IOException)
        {
            // The file is deleted next; what could not be flushed into it does not matter.
        }

        try
        {
            File.Delete(temporary);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing else to do: the target was never touched, and the name says it is a temporary file.
        }
    }

    private static FlagsException Unwritable(string path, Exception ex)
        => new("ExportUnwritable", FlagsErrorKind.WriteError, $"Could not write '{path}': {ex.Message}", path, ex);

    private void WriteCsvHeader()
    {
        if (!headerWritten)
        {
            writer.Write(AuditExporter.CsvHeader);
            headerWritten = true;
        }
    }
}
