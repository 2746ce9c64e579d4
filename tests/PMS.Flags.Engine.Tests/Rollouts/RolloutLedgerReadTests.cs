using System.Text;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>
/// The two JsonlLedger.Read changes the rollout fold relies on: the raw-line prefilter returns exactly what the full
/// parse returns, and a last line still being written (no newline yet) is not read as a malformed event.
/// </summary>
public sealed class RolloutLedgerReadTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task The_prefilter_returns_exactly_what_matching_every_parsed_event_returns()
    {
        var ledger = f.Ledger();
        var drafts = new[]
        {
            new AuditEvent { EventType = "rollout_started", FeatureFlag = "checkout_v2", Environment = "production", RolloutId = "ro-1", UserId = "ann@pms.example" },
            new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "CHECKOUT_V2", Environment = "Production", RolloutId = "RO-1", UserId = "bob" },
            new AuditEvent { EventType = "guardrail_evaluated", FeatureFlag = "checkout_v2", Environment = "production", RolloutId = "ro-1", Reason = "value \"0.07\" > 0.05", Details = "{\"labels\":{\"path\":\"C:\\\\x\"}}" },
            new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "checkout_v2_beta", Environment = "staging", UserId = "ann@pms.example" },
            new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "zähler", Environment = "production", Reason = "ümlaut \u2028 separator" },
            new AuditEvent { EventType = "rollout_completed", FeatureFlag = "search", Environment = "staging", RolloutId = "ro-2" },
        };
        foreach (var draft in drafts)
        {
            await ledger.AppendAsync(draft, None);
        }

        var queries = new[]
        {
            new AuditQuery { Flag = "checkout_v2" },
            new AuditQuery { Flag = "CHECKOUT_v2", Environment = "production" },
            new AuditQuery { RolloutId = "ro-1" },
            new AuditQuery { RolloutId = "ro" },
            new AuditQuery { User = "ann@pms.example" },
            new AuditQuery { Flag = "ZÄHLER" },
            new AuditQuery { EventTypes = new[] { "rollout_started", "ROLLOUT_COMPLETED" } },
            new AuditQuery { EventTypes = new[] { "rollout" } },
            new AuditQuery { Flag = "checkout_v2", EventTypes = new[] { "guardrail_evaluated" } },
            new AuditQuery { Flag = "checkout_v2", First = 1 },
        };
        var all = ledger.Read(AuditQuery.All, None).ToList();
        foreach (var query in queries)
        {
            var expected = all.Where(query.Matches).Select(e => e.Sequence).Take(query.First ?? int.MaxValue);
            Assert.Equal(expected, ledger.Read(query, None).Select(e => e.Sequence));
        }
    }

    [Fact]
    public async Task A_filtered_read_still_fails_on_a_garbage_line_it_would_have_parsed()
    {
        var ledger = f.Ledger();
        await ledger.AppendAsync(new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "a" }, None);
        File.AppendAllText(f.LedgerPath, "this is not an event\n");

        var error = Assert.Throws<LedgerException>(() => ledger.Read(new AuditQuery { Flag = "b" }, None).ToList());
        Assert.Equal("LedgerMalformed", error.ErrorId);
    }

    [Fact]
    public async Task A_last_line_without_its_newline_is_an_append_in_progress_for_readers_and_a_torn_tail_for_verification()
    {
        var ledger = f.Ledger();
        await ledger.AppendAsync(new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "a" }, None);
        await ledger.AppendAsync(new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "a" }, None);
        var lines = File.ReadAllLines(f.LedgerPath);
        File.WriteAllText(f.LedgerPath, lines[0] + "\n" + lines[1][..(lines[1].Length / 2)], new UTF8Encoding(false));

        Assert.Equal(new[] { 1L }, ledger.Read(AuditQuery.All, None).Select(e => e.Sequence));
        Assert.Equal(new[] { 1L }, ledger.Read(new AuditQuery { Flag = "a" }, None).Select(e => e.Sequence));
        Assert.False(ledger.Verify(None).Valid);
        Assert.Equal("LedgerTornTail", (await Assert.ThrowsAsync<LedgerException>(() => ledger.AppendAsync(new AuditEvent { EventType = "x" }, None))).ErrorId);
    }
}
