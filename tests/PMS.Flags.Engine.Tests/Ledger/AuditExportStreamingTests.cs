using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>
/// Export-FlagAudit's engine writes each event as it is enumerated: the export of a long trail never holds the trail.
/// The events come from a lazy sequence that looks at the disk and the heap while it is still being enumerated.
/// </summary>
[Collection(ExportMemoryCollection.Name)]
public sealed class AuditExportStreamingTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(AuditExportFormat.Json)]
    [InlineData(AuditExportFormat.Csv)]
    [InlineData(AuditExportFormat.Html)]
    [InlineData(AuditExportFormat.Jsonl)]
    public void Events_are_on_disk_before_the_sequence_ends_and_only_the_finished_export_is_at_the_target(AuditExportFormat format)
    {
        var target = temp.Combine("export." + format.ToString().ToLowerInvariant());
        long bytesOnDiskMidway = -1;
        bool targetExistedMidway = true;
        IEnumerable<AuditEvent> Lazily()
        {
            for (var i = 1; i <= 20_000; i++)
            {
                if (i == 10_000)
                {
                    bytesOnDiskMidway = Directory.GetFiles(temp.Path).Sum(f => new FileInfo(f).Length);
                    targetExistedMidway = File.Exists(target);
                }

                yield return Heavy(i);
            }
        }

        Assert.Equal(20_000, AuditExporter.Write(Lazily(), format, target));
        Assert.True(bytesOnDiskMidway > 1_000_000, $"only {bytesOnDiskMidway} bytes were on disk after 10,000 events: the export is gathered in memory");
        Assert.False(targetExistedMidway, "the target appeared before the export was complete");
        Assert.Equal(new[] { target }, Directory.GetFiles(temp.Path));
        if (format == AuditExportFormat.Json)
        {
            var array = JArray.Parse(File.ReadAllText(target));
            Assert.Equal(20_000, array.Count);
            Assert.Equal(20_000L, (long)array[array.Count - 1]["sequence"]!);
        }
        else if (format == AuditExportFormat.Csv)
        {
            Assert.Equal(20_001, File.ReadLines(target).Count());
        }
        else if (format == AuditExportFormat.Jsonl)
        {
            Assert.Equal(20_000, File.ReadLines(target).Count());
        }
        else
        {
            var html = File.ReadAllText(target);
            Assert.Contains("20000 event(s), #1 to #20000", html);
            Assert.Equal(20_000, html.Split("<tr><td>").Length - 1);
            Assert.EndsWith("</table>\n</body></html>\n", html);
        }
    }

    [Theory]
    [InlineData(AuditExportFormat.Json)]
    [InlineData(AuditExportFormat.Csv)]
    [InlineData(AuditExportFormat.Html)]
    [InlineData(AuditExportFormat.Jsonl)]
    public void The_heap_does_not_grow_with_the_number_of_events(AuditExportFormat format)
    {
        // 200,000 events of about 1 KB each: gathered, they would hold some 200 MB. The bound is generous (a few
        // buffers and the report's sort runs), so it never flakes, yet an order of magnitude below the trail's size.
        const int count = 200_000;
        long atStart = 0;
        long atEnd = 0;
        IEnumerable<AuditEvent> Lazily()
        {
            for (var i = 1; i <= count; i++)
            {
                if (i == 20_000)
                {
                    atStart = GC.GetTotalMemory(forceFullCollection: true);
                }

                yield return Heavy(i);
            }

            atEnd = GC.GetTotalMemory(forceFullCollection: true);
        }

        AuditExporter.Write(Lazily(), format, temp.Combine("export"));
        var growth = atEnd - atStart;
        Assert.True(growth < 40_000_000, $"the managed heap grew by {growth:N0} bytes over 180,000 events");
    }

    [Theory]
    [InlineData(AuditExportFormat.Json)]
    [InlineData(AuditExportFormat.Csv)]
    [InlineData(AuditExportFormat.Html)]
    [InlineData(AuditExportFormat.Jsonl)]
    public void A_sequence_that_fails_midway_leaves_no_file_and_the_old_target_untouched(AuditExportFormat format)
    {
        var target = temp.Combine("export");
        File.WriteAllText(target, "keep me");
        IEnumerable<AuditEvent> Failing()
        {
            for (var i = 1; i <= 30_000; i++)
            {
                yield return Heavy(i);
            }

            throw new InvalidOperationException("the ledger went away");
        }

        Assert.Throws<InvalidOperationException>(() => AuditExporter.Write(Failing(), format, target));
        Assert.Equal("keep me", File.ReadAllText(target));
        Assert.Equal(new[] { target }, Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void The_report_sorts_each_timeline_by_time_across_its_runs_on_disk()
    {
        // Over 16,384 points the timeline is sorted in runs on disk and merged: events arriving out of time order
        // (clock skew between agents) must still be drawn in time order, as the in-memory sort drew them.
        var events = Enumerable.Range(1, 40_000).Select(i => Copy(Heavy(i), Start.AddSeconds((i * 7919L) % 40_000), i % 2 == 0 ? "a_flag" : "b_flag")).ToArray();
        var html = AuditHtmlReport.Render(events, null, Start);
        foreach (var flag in new[] { "a_flag", "b_flag" })
        {
            var svg = html[html.IndexOf($"data-flag=\"{flag}\"", StringComparison.Ordinal)..];
            svg = svg[..svg.IndexOf("</svg>", StringComparison.Ordinal)];
            var drawn = svg.Split("data-sequence=\"").Skip(1).Select(s => long.Parse(s[..s.IndexOf('"')], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var expected = events.Where(e => e.FeatureFlag == flag).OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence).Select(e => e.Sequence).ToArray();
            Assert.Equal(expected, drawn);
        }
    }

    private static AuditEvent Copy(AuditEvent e, DateTimeOffset at, string flag) => new AuditEvent
    {
        Timestamp = at,
        EventType = e.EventType,
        UserId = e.UserId,
        FeatureFlag = flag,
        Environment = "production",
        Reason = e.Reason,
        RolloutPercentage = e.RolloutPercentage,
        EventId = e.EventId,
        Details = e.Details,
    }.WithChain(e.Sequence, e.PrevHash, e.Hash ?? "");

    private static AuditEvent Heavy(int i) => new AuditEvent
    {
        Timestamp = Start.AddSeconds(i),
        EventType = i % 10 == 0 ? "guardrail_breached" : "feature_flag_toggled",
        UserId = $"user{i % 50}@pms.example.com",
        FeatureFlag = $"flag_{i % 40}",
        PreviousState = i % 2 == 0,
        NewState = i % 2 == 1,
        Environment = i % 3 == 0 ? "production" : "staging",
        Reason = $"Gradual rollout step {i}: " + new string('r', 300),
        RolloutPercentage = i % 101,
        ApprovalTicket = i % 7 == 0 ? $"TICKET-{i}" : null,
        EventId = Guid.NewGuid().ToString(),
        Store = "LocalFile:/bench/feature_flags.json",
        Outcome = "applied",
        Details = "{\"change\":\"SetPercentage\",\"requested_percentage\":" + i + ",\"note\":\"" + new string('d', 200) + "\"}",
    }.WithChain(i, new string('a', 64), new string('b', 64));
}
