using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>Tampering with the hash-chained ledger is detected and located: modified, deleted, inserted, reordered.</summary>
public sealed class ChainVerificationTests : IDisposable
{
    private const int Count = 50;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private async Task<(JsonlLedger Ledger, string[] Lines)> Chain()
    {
        var ledger = await Events.LedgerWith(temp.Combine("audit.jsonl"), Count);
        return (ledger, Events.Lines(ledger.Path));
    }

    private static void AssertBroken(ChainVerification verification, string problem, long sequence)
    {
        Assert.False(verification.Valid);
        Assert.Equal(problem, verification.Problem);
        Assert.Equal(sequence, verification.FirstBrokenSequence);
        Assert.False(string.IsNullOrEmpty(verification.Message));
        Assert.Null(verification.HeadHash);
    }

    [Fact]
    public async Task An_untouched_chain_is_valid()
    {
        var (ledger, lines) = await Chain();

        var verification = ledger.Verify(CancellationToken.None);

        Assert.True(verification.Valid);
        Assert.Equal(Count, verification.Count);
        Assert.Null(verification.FirstBrokenSequence);
        Assert.Null(verification.Problem);
        Assert.Equal((string?)JObject.Parse(lines[^1])["hash"], verification.HeadHash);
        Assert.Equal(Count, lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            Assert.Equal((string?)JObject.Parse(lines[i - 1])["hash"], (string?)JObject.Parse(lines[i])["prev_hash"]);
        }

        Assert.Equal(JTokenType.Null, JObject.Parse(lines[0])["prev_hash"]!.Type);
    }

    [Fact]
    public void A_missing_ledger_is_an_empty_valid_chain()
    {
        var verification = new JsonlLedger(temp.Combine("none.jsonl")).Verify(CancellationToken.None);

        Assert.True(verification.Valid);
        Assert.Equal(0, verification.Count);
        Assert.Null(verification.HeadHash);
    }

    [Fact]
    public async Task A_modified_field_is_modified_at_that_event()
    {
        var (ledger, lines) = await Chain();
        Assert.Contains("\"reason\":\"reason-5\"", lines[4]);
        lines[4] = lines[4].Replace("\"reason\":\"reason-5\"", "\"reason\":\"reason-X\"");
        Events.WriteLines(ledger.Path, lines);

        AssertBroken(ledger.Verify(CancellationToken.None), "modified", 5);
    }

    [Fact]
    public async Task A_modified_event_with_a_recomputed_hash_breaks_the_next_link()
    {
        var (ledger, lines) = await Chain();
        var forged = AuditEventCodec.ParseLine(lines[4]);
        var changed = new AuditEvent
        {
            Timestamp = forged.Timestamp,
            EventType = forged.EventType,
            UserId = "mallory",
            FeatureFlag = forged.FeatureFlag,
            Environment = forged.Environment,
            Reason = forged.Reason,
            EventId = forged.EventId,
        }.WithChain(5, forged.PrevHash, "");
        lines[4] = AuditEventCodec.ToLine(changed, out _);
        Events.WriteLines(ledger.Path, lines);

        var verification = ledger.Verify(CancellationToken.None);

        Assert.False(verification.Valid);
        Assert.Equal(6, verification.FirstBrokenSequence);
    }

    [Fact]
    public async Task A_deleted_line_is_deleted_at_its_sequence()
    {
        var (ledger, lines) = await Chain();
        Events.WriteLines(ledger.Path, lines.Where((_, i) => i != 4));

        AssertBroken(ledger.Verify(CancellationToken.None), "deleted", 5);
    }

    [Fact]
    public async Task Swapped_lines_are_reordered_at_the_first_of_them()
    {
        var (ledger, lines) = await Chain();
        (lines[4], lines[5]) = (lines[5], lines[4]);
        Events.WriteLines(ledger.Path, lines);

        AssertBroken(ledger.Verify(CancellationToken.None), "reordered", 5);
    }

    [Fact]
    public async Task A_forged_event_with_a_valid_own_hash_is_inserted()
    {
        var (ledger, lines) = await Chain();
        var hashOf4 = (string)JObject.Parse(lines[3])["hash"]!;
        var forgedLine = AuditEventCodec.ToLine(Events.Toggled(99).WithChain(5, hashOf4, ""), out var forgedHash);
        Assert.Equal(forgedHash, AuditEventCodec.CanonicalHashOfLine(forgedLine));
        Events.WriteLines(ledger.Path, lines.Take(4).Append(forgedLine).Concat(lines.Skip(4)));

        AssertBroken(ledger.Verify(CancellationToken.None), "inserted", 5);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"sequence\":5,")]
    [InlineData("[1,2,3]")]
    public async Task A_line_that_is_not_an_event_is_modified(string garbage)
    {
        var (ledger, lines) = await Chain();
        lines[4] = garbage;
        Events.WriteLines(ledger.Path, lines);

        AssertBroken(ledger.Verify(CancellationToken.None), "modified", 5);
    }

    [Fact]
    public async Task A_line_rewritten_with_the_same_meaning_still_verifies()
    {
        var (ledger, lines) = await Chain();
        var original = lines[2];
        var shuffled = new JObject(AuditEventCodec.ParseJson(lines[2]).Children<JProperty>().Reverse().Select(p => new JProperty(p.Name, p.Value)));
        lines[2] = shuffled.ToString(Newtonsoft.Json.Formatting.None).Replace(",\"", ", \"");
        Assert.NotEqual(original, lines[2]);
        Assert.Equal(original.Length + 18, lines[2].Length);
        Events.WriteLines(ledger.Path, lines);

        var verification = ledger.Verify(CancellationToken.None);

        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(Count, verification.Count);
    }

    [Fact]
    public async Task ChainVerifier_judges_lines_given_directly()
    {
        var (_, lines) = await Chain();

        var valid = ChainVerifier.Verify("in-memory", lines, CancellationToken.None);
        var broken = ChainVerifier.Verify("in-memory", lines.Skip(1), CancellationToken.None);

        Assert.True(valid.Valid);
        Assert.Equal("in-memory", valid.Ledger);
        Assert.Equal(Count, valid.Count);
        Assert.False(broken.Valid);
        Assert.Equal("deleted", broken.Problem);
        Assert.Equal(1, broken.FirstBrokenSequence);
    }

    [Fact]
    public async Task Append_with_a_stale_expected_head_is_refused_and_appends_nothing()
    {
        var (ledger, _) = await Chain();
        var before = File.ReadAllBytes(ledger.Path);
        Assert.Equal(Count, await ledger.GetHeadSequenceAsync(CancellationToken.None));

        var ex = await Assert.ThrowsAsync<LedgerException>(() => Events.AppendAt(ledger, Events.Toggled(51), Count - 1));

        Assert.Equal("LedgerHeadMoved", ex.ErrorId);
        Assert.Equal(LedgerFailure.Conflict, ex.Failure);
        Assert.Equal(before, File.ReadAllBytes(ledger.Path));
        Assert.Equal(Count, await ledger.GetHeadSequenceAsync(CancellationToken.None));

        var appended = await Events.AppendAt(ledger, Events.Toggled(51), Count);
        Assert.Equal(Count + 1, appended.Sequence);
        Assert.Equal((string)JObject.Parse(Events.Lines(ledger.Path)[Count - 1])["hash"]!, appended.PrevHash);
        Assert.Equal(AuditEventCodec.ComputeHash(appended), appended.Hash);
        Assert.True(ledger.Verify(CancellationToken.None).Valid);
    }

    [Fact]
    public async Task Append_to_an_empty_ledger_with_expected_head_zero_starts_the_chain()
    {
        var ledger = new JsonlLedger(temp.Combine("sub", "audit.jsonl"));

        var first = await Events.AppendAt(ledger, Events.Toggled(1), 0);

        Assert.Equal(1, first.Sequence);
        Assert.Null(first.PrevHash);
        var ex = await Assert.ThrowsAsync<LedgerException>(() => Events.AppendAt(ledger, Events.Toggled(2), 0));
        Assert.Equal("LedgerHeadMoved", ex.ErrorId);
        Assert.Single(Events.Lines(ledger.Path));
    }

    [Fact]
    public async Task Append_refuses_a_torn_tail_and_the_audit_trail_spools_instead()
    {
        var (ledger, lines) = await Chain();
        var torn = string.Concat(lines.Select(l => l + "\n")) + lines[^1][..20];
        File.WriteAllText(ledger.Path, torn);

        var ex = await Assert.ThrowsAsync<LedgerException>(() => ledger.AppendAsync(Events.Toggled(51), CancellationToken.None));
        var trail = new AuditTrail(ledger, new AuditSpool(temp.Combine("spool")), NullOperationLog.Instance);
        var record = await trail.RecordAsync(Events.Toggled(52), CancellationToken.None);

        Assert.Equal("LedgerTornTail", ex.ErrorId);
        Assert.Equal(LedgerFailure.Refused, ex.Failure);
        Assert.Equal(torn, File.ReadAllText(ledger.Path));
        Assert.True(record.Spooled);
        Assert.True(File.Exists(record.SpoolPath));
    }

    [Fact]
    public async Task Blank_lines_are_ignored_by_append_as_they_are_by_verify()
    {
        var (ledger, lines) = await Chain();
        File.AppendAllText(ledger.Path, "\n\n");
        Assert.True(ledger.Verify(CancellationToken.None).Valid);

        var appended = await Events.AppendAt(ledger, Events.Toggled(51), Count);

        Assert.Equal(Count + 1, appended.Sequence);
        Assert.Equal((string)JObject.Parse(lines[^1])["hash"]!, appended.PrevHash);
        var verification = ledger.Verify(CancellationToken.None);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(Count + 1, verification.Count);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\n\n\n")]
    public async Task A_ledger_of_blank_lines_is_empty(string content)
    {
        var ledger = new JsonlLedger(temp.Combine("blank.jsonl"));
        File.WriteAllText(ledger.Path, content);

        Assert.Equal(0, await ledger.GetHeadSequenceAsync(CancellationToken.None));
        var first = await Events.AppendAt(ledger, Events.Toggled(1), 0);

        Assert.Equal(1, first.Sequence);
        Assert.Null(first.PrevHash);
        Assert.True(ledger.Verify(CancellationToken.None).Valid);
    }
}
