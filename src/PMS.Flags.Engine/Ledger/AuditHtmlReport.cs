using System.Globalization;
using System.Net;
using System.Text;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// One self-contained HTML file for an auditor: no script and no external resource, so it opens anywhere and can be
/// attached to an audit. It states the selection, the chain and checkpoint verdict with the sealed head, who changed
/// what and why, and per flag and environment a timeline of exposure (percentage over time) drawn as inline SVG, with
/// stage changes, approvals, breaches and rollbacks marked. The plot's geometry is fixed (see the constants), so a
/// rendered point's place can be checked against its event.
/// </summary>
public static class AuditHtmlReport
{
    public const int PlotLeft = 60;
    public const int PlotWidth = 640;
    public const int PlotTop = 20;

    /// <summary>Pixels per percentage point: 100% is at PlotTop, 0% at PlotTop + 200.</summary>
    public const int PixelsPerPercent = 2;

    public const string ChangeColor = "#1f5fbf";
    public const string ApprovalColor = "#2e8b57";
    public const string BreachColor = "#e07000";
    public const string RollbackColor = "#c00000";

    internal const string TableHead = "<h2>Who changed what and why</h2>\n<table id=\"events\"><tr><th>#</th><th>Time (UTC)</th><th>User</th><th>Event</th><th>Flag</th><th>Environment</th><th>%</th><th>Reason</th><th>Ticket</th><th>Outcome</th></tr>\n";

    internal const string Footer = "</table>\n</body></html>\n";

    /// <summary>Renders a report of a few events in memory; an export of any size streams through <see cref="AuditExportWriter"/>.</summary>
    public static string Render(IEnumerable<AuditEvent> events, ChainVerification? verdict, DateTimeOffset generatedAt)
    {
        var directory = Directory.CreateTempSubdirectory("pms-flags-report-");
        try
        {
            var path = System.IO.Path.Combine(directory.FullName, "report.html");
            using (var writer = AuditExportWriter.Create(path, AuditExportFormat.Html, verdict, generatedAt))
            {
                foreach (var auditEvent in events)
                {
                    writer.Write(auditEvent);
                }

                writer.Commit();
            }

            return File.ReadAllText(path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    internal static string Head(DateTimeOffset generatedAt)
        => "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>PMS.Flags audit report</title>\n<style>"
            + "body{font-family:sans-serif;margin:16px;color:#222}table{border-collapse:collapse;font-size:12px}"
            + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
            + ".valid{color:#1b6e1b}.broken{color:#b00000}svg{display:block;margin:8px 0 24px 0}"
            + "</style></head><body>\n<h1>Feature flag audit report</h1>\n"
            + "<p id=\"generated\">Generated " + Encode(Time(generatedAt)) + "</p>\n";

    internal static string SelectionSection(string selection)
        => "<h2>Selection</h2>\n<p id=\"selection\">" + Encode(selection) + "</p>\n";

    internal static string VerdictSection(ChainVerification? verdict) => "<h2>Verdict</h2>\n" + Verdict(verdict) + "<h2>Exposure over time</h2>\n";

    internal static void WriteRow(TextWriter html, AuditEvent e)
    {
        var cells = new[]
        {
            e.Pending ? "pending" : e.Sequence.ToString(CultureInfo.InvariantCulture),
            Encode(Time(e.Timestamp)),
            Encode(e.UserId),
            Encode(e.EventType),
            Encode(e.FeatureFlag),
            Encode(e.Environment),
            e.RolloutPercentage?.ToString(CultureInfo.InvariantCulture) ?? "",
            Encode(e.Reason),
            Encode(e.ApprovalTicket),
            Encode(e.Outcome),
        };
        html.Write("<tr><td>");
        html.Write(string.Join("</td><td>", cells));
        html.Write("</td></tr>\n");
    }

    /// <summary>The exposure after an event: its percentage, 0 when it switched the flag off, else what it was before.</summary>
    public static decimal ExposureAfter(AuditEvent e, decimal before)
        => e.RolloutPercentage ?? (e.NewState == false ? 0 : e.NewState == true && before == 0 ? 100 : before);

    public static string MarkerColor(AuditEvent e) => e.EventType switch
    {
        "guardrail_breached" => BreachColor,
        "rollout_rolled_back" or "emergency_rollback" => RollbackColor,
        _ when !string.IsNullOrEmpty(e.ApprovalTicket) => ApprovalColor,
        _ => ChangeColor,
    };

    private static string Verdict(ChainVerification? verdict)
    {
        if (verdict is null)
        {
            return "<p id=\"verdict\">Chain not verified for this report.</p>\n";
        }

        var text = new StringBuilder();
        text.Append(verdict.Valid ? $"Chain VALID: {verdict.Count} event(s) intact." : $"Chain BROKEN at #{verdict.FirstBrokenSequence}: {verdict.Problem}. {verdict.Message}");
        text.Append(verdict.SealedSequence is { } sealedSequence
            ? $" Last checkpoint seals #{sealedSequence}, head {verdict.SealedHead}; signature {(verdict.CheckpointVerified ? "VERIFIED" : "not verified (no trusted public key given)")}; {verdict.UnsealedCount} event(s) after it are unsealed."
            : " No checkpoint seals this ledger.");
        if (verdict.Pending > 0)
        {
            text.Append($" {verdict.Pending} event(s) are spooled and not yet in the ledger.");
        }

        return $"<p id=\"verdict\" class=\"{(verdict.Valid ? "valid" : "broken")}\">{Encode(text.ToString())}</p>\n<p>Ledger: {Encode(verdict.Ledger)}</p>\n";
    }

    /// <summary>
    /// One flag and environment's timeline. <paramref name="points"/> enumerates its plotted events in time order; it is
    /// enumerated twice (the line, then the markers) so neither is held in memory.
    /// </summary>
    internal static void WriteTimeline(TextWriter svg, string flag, string environment, Func<IEnumerable<AuditTimelinePoint>> points, long plottedCount, long firstTicks, long lastTicks)
    {
        var first = plottedCount == 0 ? DateTimeOffset.MinValue : new DateTimeOffset(firstTicks, TimeSpan.Zero);
        var span = plottedCount == 0 ? 0 : TimeSpan.FromTicks(lastTicks - firstTicks).TotalSeconds;
        double X(AuditTimelinePoint e) => span <= 0 ? PlotLeft + (PlotWidth / 2.0) : PlotLeft + (PlotWidth * TimeSpan.FromTicks(e.Ticks - firstTicks).TotalSeconds / span);
        double Y(decimal percentage) => PlotTop + ((100 - (double)percentage) * PixelsPerPercent);
        svg.Write("<h3>");
        svg.Write(Encode(flag));
        svg.Write(" in ");
        svg.Write(Encode(environment));
        svg.Write("</h3>\n");
        svg.Write(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" data-flag=\"{Encode(flag)}\" data-environment=\"{Encode(environment)}\" width=\"{PlotLeft + PlotWidth + 20}\" height=\"{PlotTop + (100 * PixelsPerPercent) + 40}\">"));
        svg.Write(Invariant($"<rect x=\"{PlotLeft}\" y=\"{PlotTop}\" width=\"{PlotWidth}\" height=\"{100 * PixelsPerPercent}\" fill=\"#fafafa\" stroke=\"#bbb\"/>"));
        foreach (var gridline in new[] { 0, 25, 50, 75, 100 })
        {
            svg.Write(Invariant($"<text x=\"{PlotLeft - 8}\" y=\"{Y(gridline) + 4}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{gridline}%</text>"));
        }

        svg.Write("<path d=\"");
        var exposure = 0m;
        var started = false;
        foreach (var e in points())
        {
            var x = X(e);
            svg.Write(started ? Invariant($" H{x:0.##}") : Invariant($"M{x:0.##},{Y(exposure):0.##}"));
            started = true;
            exposure = e.ExposureAfter(exposure);
            svg.Write(Invariant($" V{Y(exposure):0.##}"));
        }

        svg.Write("\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\"/>");
        exposure = 0m;
        foreach (var e in points())
        {
            var x = X(e);
            exposure = e.ExposureAfter(exposure);
            svg.Write(Invariant($"<circle cx=\"{x:0.##}\" cy=\"{Y(exposure):0.##}\" r=\"5\" fill=\"{e.Color}\" data-sequence=\"{e.Sequence}\" data-percentage=\"{exposure}\"><title>"));
            svg.Write(Encode($"#{e.Sequence} {Time(new DateTimeOffset(e.Ticks, TimeSpan.Zero))} {e.EventType} {exposure}% by {e.UserId}: {e.Reason}"));
            svg.Write("</title></circle>");
        }

        if (plottedCount > 0)
        {
            svg.Write(Invariant($"<text x=\"{PlotLeft}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 16}\" font-size=\"11\" fill=\"#555\">{Encode(Time(first))}</text>"));
            svg.Write(Invariant($"<text x=\"{PlotLeft + PlotWidth}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 16}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{Encode(Time(new DateTimeOffset(lastTicks, TimeSpan.Zero)))}</text>"));
        }

        // The legend's bullets are drawn translucent, so only the plotted points have the markers' exact colours.
        svg.Write(Invariant($"<text x=\"{PlotLeft}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 34}\" font-size=\"11\" fill=\"#555\" fill-opacity=\"0.8\">"));
        svg.Write($"<tspan fill=\"{ChangeColor}\">&#9679; change</tspan> <tspan fill=\"{ApprovalColor}\">&#9679; approved (ticket)</tspan> <tspan fill=\"{BreachColor}\">&#9679; guardrail breach</tspan> <tspan fill=\"{RollbackColor}\">&#9679; rollback</tspan></text>");
        svg.Write("</svg>\n");
    }

    internal static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
