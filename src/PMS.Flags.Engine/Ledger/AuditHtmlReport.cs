using System.Globalization;
using System.Net;
using System.Text;
using PMS.Flags.Engine.Ledger.Checkpoints;

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

    public static string Render(IReadOnlyCollection<AuditEvent> events, ChainVerification? verdict, DateTimeOffset generatedAt)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>PMS.Flags audit report</title>\n<style>")
            .Append("body{font-family:sans-serif;margin:16px;color:#222}table{border-collapse:collapse;font-size:12px}")
            .Append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}")
            .Append(".valid{color:#1b6e1b}.broken{color:#b00000}svg{display:block;margin:8px 0 24px 0}")
            .Append("</style></head><body>\n<h1>Feature flag audit report</h1>\n");
        html.Append("<p id=\"generated\">Generated ").Append(Encode(Time(generatedAt))).Append("</p>\n");
        html.Append("<h2>Selection</h2>\n<p id=\"selection\">").Append(Encode(Selection(events))).Append("</p>\n");
        html.Append("<h2>Verdict</h2>\n").Append(Verdict(verdict));
        html.Append("<h2>Exposure over time</h2>\n");
        foreach (var stream in events.Where(e => e.FeatureFlag is not null).GroupBy(e => (Flag: e.FeatureFlag!, Environment: e.Environment ?? "")).OrderBy(g => g.Key.Flag, StringComparer.Ordinal).ThenBy(g => g.Key.Environment, StringComparer.Ordinal))
        {
            html.Append(Timeline(stream.Key.Flag, stream.Key.Environment, stream.OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence).ToArray()));
        }

        html.Append("<h2>Who changed what and why</h2>\n<table id=\"events\"><tr><th>#</th><th>Time (UTC)</th><th>User</th><th>Event</th><th>Flag</th><th>Environment</th><th>%</th><th>Reason</th><th>Ticket</th><th>Outcome</th></tr>\n");
        foreach (var e in events)
        {
            html.Append("<tr><td>").Append(e.Pending ? "pending" : e.Sequence.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(Encode(Time(e.Timestamp)))
                .Append("</td><td>").Append(Encode(e.UserId))
                .Append("</td><td>").Append(Encode(e.EventType))
                .Append("</td><td>").Append(Encode(e.FeatureFlag))
                .Append("</td><td>").Append(Encode(e.Environment))
                .Append("</td><td>").Append(e.RolloutPercentage?.ToString(CultureInfo.InvariantCulture) ?? "")
                .Append("</td><td>").Append(Encode(e.Reason))
                .Append("</td><td>").Append(Encode(e.ApprovalTicket))
                .Append("</td><td>").Append(Encode(e.Outcome))
                .Append("</td></tr>\n");
        }

        return html.Append("</table>\n</body></html>\n").ToString();
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

    private static string Selection(IReadOnlyCollection<AuditEvent> events)
    {
        if (events.Count == 0)
        {
            return "No events.";
        }

        string List(IEnumerable<string?> values) => string.Join(", ", values.Where(v => v is not null).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(v => v, StringComparer.Ordinal));
        var sequences = events.Where(e => !e.Pending).Select(e => e.Sequence).ToArray();
        return $"{events.Count} event(s)"
            + (sequences.Length > 0 ? $", #{sequences.Min()} to #{sequences.Max()}" : "")
            + $", from {Time(events.Min(e => e.Timestamp))} to {Time(events.Max(e => e.Timestamp))}"
            + $"; flags: {List(events.Select(e => e.FeatureFlag))}; environments: {List(events.Select(e => e.Environment))}; event types: {List(events.Select(e => e.EventType))}"
            + (events.Any(e => e.Pending) ? $"; {events.Count(e => e.Pending)} pending (spooled, not yet in the ledger)" : "")
            + ".";
    }

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

    private static string Timeline(string flag, string environment, IReadOnlyList<AuditEvent> events)
    {
        var plotted = events.Where(e => e.EventType != "guardrail_evaluated").ToArray();
        var first = plotted.Length == 0 ? DateTimeOffset.MinValue : plotted[0].Timestamp;
        var span = plotted.Length == 0 ? 0 : (plotted[^1].Timestamp - first).TotalSeconds;
        double X(AuditEvent e) => span <= 0 ? PlotLeft + (PlotWidth / 2.0) : PlotLeft + (PlotWidth * (e.Timestamp - first).TotalSeconds / span);
        double Y(decimal percentage) => PlotTop + ((100 - (double)percentage) * PixelsPerPercent);
        var svg = new StringBuilder();
        svg.Append("<h3>").Append(Encode(flag)).Append(" in ").Append(Encode(environment)).Append("</h3>\n")
            .Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" data-flag=\"{Encode(flag)}\" data-environment=\"{Encode(environment)}\" width=\"{PlotLeft + PlotWidth + 20}\" height=\"{PlotTop + (100 * PixelsPerPercent) + 40}\">"))
            .Append(Invariant($"<rect x=\"{PlotLeft}\" y=\"{PlotTop}\" width=\"{PlotWidth}\" height=\"{100 * PixelsPerPercent}\" fill=\"#fafafa\" stroke=\"#bbb\"/>"));
        foreach (var gridline in new[] { 0, 25, 50, 75, 100 })
        {
            svg.Append(Invariant($"<text x=\"{PlotLeft - 8}\" y=\"{Y(gridline) + 4}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{gridline}%</text>"));
        }

        var exposure = 0m;
        var path = new StringBuilder();
        var markers = new StringBuilder();
        foreach (var e in plotted)
        {
            var x = X(e);
            path.Append(path.Length == 0 ? Invariant($"M{x:0.##},{Y(exposure):0.##}") : Invariant($" H{x:0.##}"));
            exposure = ExposureAfter(e, exposure);
            path.Append(Invariant($" V{Y(exposure):0.##}"));
            markers.Append(Invariant($"<circle cx=\"{x:0.##}\" cy=\"{Y(exposure):0.##}\" r=\"5\" fill=\"{MarkerColor(e)}\" data-sequence=\"{e.Sequence}\" data-percentage=\"{exposure}\"><title>"))
                .Append(Encode($"#{e.Sequence} {Time(e.Timestamp)} {e.EventType} {exposure}% by {e.UserId}: {e.Reason}")).Append("</title></circle>");
        }

        svg.Append("<path d=\"").Append(path).Append("\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\"/>").Append(markers);
        if (plotted.Length > 0)
        {
            svg.Append(Invariant($"<text x=\"{PlotLeft}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 16}\" font-size=\"11\" fill=\"#555\">{Encode(Time(first))}</text>"))
                .Append(Invariant($"<text x=\"{PlotLeft + PlotWidth}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 16}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{Encode(Time(plotted[^1].Timestamp))}</text>"));
        }

        // The legend's bullets are drawn translucent, so only the plotted points have the markers' exact colours.
        svg.Append(Invariant($"<text x=\"{PlotLeft}\" y=\"{PlotTop + (100 * PixelsPerPercent) + 34}\" font-size=\"11\" fill=\"#555\" fill-opacity=\"0.8\">"))
            .Append($"<tspan fill=\"{ChangeColor}\">&#9679; change</tspan> <tspan fill=\"{ApprovalColor}\">&#9679; approved (ticket)</tspan> <tspan fill=\"{BreachColor}\">&#9679; guardrail breach</tspan> <tspan fill=\"{RollbackColor}\">&#9679; rollback</tspan></text>");
        return svg.Append("</svg>\n").ToString();
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
