using System.Text;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Streams the HTML report. Its top (the selection, the timelines) summarises every event, so it can only be written
/// after the last one: the table's rows go to a scratch file as the events come, the timelines' points to sorted runs
/// (<see cref="AuditTimelinePoints"/>), and the selection is kept as counts and the distinct names; at the end the
/// report is assembled in its usual order. The chain verdict is known from the start (it is about the ledger).
/// </summary>
internal sealed class AuditHtmlReportWriter : IDisposable
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    private readonly ChainVerification? verdict;
    private readonly DateTimeOffset generatedAt;
    private readonly string rowsPath;
    private readonly FileStream rowsFile;
    private readonly StreamWriter rows;
    private readonly AuditTimelinePoints timelines;
    private readonly HashSet<string> flags = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> environments = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> eventTypes = new(StringComparer.OrdinalIgnoreCase);
    private long count;
    private long pending;
    private long? minSequence;
    private long? maxSequence;
    private DateTimeOffset minTime;
    private DateTimeOffset maxTime;
    private bool disposed;

    public AuditHtmlReportWriter(string scratchPrefix, ChainVerification? verdict, DateTimeOffset generatedAt)
    {
        this.verdict = verdict;
        this.generatedAt = generatedAt;
        rowsPath = scratchPrefix + ".rows";
        timelines = new AuditTimelinePoints(scratchPrefix + ".points");
        rowsFile = new FileStream(rowsPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        rows = new StreamWriter(rowsFile, Utf8NoBom, 1 << 16);
    }

    public void Add(AuditEvent e)
    {
        AuditHtmlReport.WriteRow(rows, e);
        if (count == 0 || e.Timestamp < minTime)
        {
            minTime = e.Timestamp;
        }

        if (count == 0 || e.Timestamp > maxTime)
        {
            maxTime = e.Timestamp;
        }

        if (e.Pending)
        {
            pending++;
        }
        else
        {
            minSequence = Math.Min(minSequence ?? long.MaxValue, e.Sequence);
            maxSequence = Math.Max(maxSequence ?? long.MinValue, e.Sequence);
        }

        Remember(flags, e.FeatureFlag);
        Remember(environments, e.Environment);
        Remember(eventTypes, e.EventType);
        if (e.FeatureFlag is not null)
        {
            timelines.Add(e.FeatureFlag, e.Environment ?? "", e.EventType == "guardrail_evaluated" ? null : AuditTimelinePoint.From(e, count));
        }

        count++;
    }

    /// <summary>Writes the whole report to <paramref name="output"/> (whose file is <paramref name="outputFile"/>, for copying the rows in bytes).</summary>
    public void Finish(StreamWriter output, FileStream outputFile)
    {
        output.Write(AuditHtmlReport.Head(generatedAt));
        output.Write(AuditHtmlReport.SelectionSection(Selection()));
        output.Write(AuditHtmlReport.VerdictSection(verdict));
        foreach (var stream in timelines.Streams)
        {
            AuditHtmlReport.WriteTimeline(output, stream.Flag, stream.Environment, () => timelines.Sorted(stream.Flag, stream.Environment), stream.Count, stream.FirstTicks, stream.LastTicks);
        }

        output.Write(AuditHtmlReport.TableHead);
        output.Flush();
        rows.Flush();
        rowsFile.Position = 0;
        rowsFile.CopyTo(outputFile);
        output.Write(AuditHtmlReport.Footer);
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        rows.Dispose();
        timelines.Dispose();
        File.Delete(rowsPath);
    }

    private static void Remember(HashSet<string> seen, string? value)
    {
        // The first spelling met is the one listed, as Distinct(OrdinalIgnoreCase) kept it.
        if (value is not null)
        {
            seen.Add(value);
        }
    }

    private static string List(IEnumerable<string> values) => string.Join(", ", values.OrderBy(v => v, StringComparer.Ordinal));

    private string Selection()
    {
        if (count == 0)
        {
            return "No events.";
        }

        return $"{count} event(s)"
            + (minSequence is { } min ? $", #{min} to #{maxSequence}" : "")
            + $", from {AuditHtmlReport.Time(minTime)} to {AuditHtmlReport.Time(maxTime)}"
            + $"; flags: {List(flags)}; environments: {List(environments)}; event types: {List(eventTypes)}"
            + (pending > 0 ? $"; {pending} pending (spooled, not yet in the ledger)" : "")
            + ".";
    }
}
