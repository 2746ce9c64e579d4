using System.Text;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>
/// The byte pipeline that verifies a database's COPY stream judges exactly as the text verifier does, whatever the
/// tampering and however the lines are split into batches, and a reading failure reaches the caller unchanged.
/// </summary>
public sealed class ChainVerifierUtf8Tests : IDisposable
{
    private const int Count = 40;
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private async Task<string[]> Chain()
    {
        var ledger = await Events.LedgerWith(temp.Combine("audit.jsonl"), Count);
        return Events.Lines(ledger.Path);
    }

    /// <summary>Feeds the lines a few at a time, so a scan spans many batches and hand-overs.</summary>
    private static Func<Utf8LineBatch, CancellationToken, bool> Feed(IReadOnlyList<string> lines, int perBatch = 7)
    {
        var next = 0;
        return (batch, _) =>
        {
            for (var taken = 0; taken < perBatch && next < lines.Count; taken++, next++)
            {
                var bytes = Encoding.UTF8.GetBytes(lines[next]);
                bytes.CopyTo(batch.Reserve(bytes.Length).Span);
            }

            return next < lines.Count;
        };
    }

    public static TheoryData<string> Tamperings() => new()
    {
        "none", "field edited", "hash recomputed", "line deleted", "lines swapped", "event forged", "not json", "half a line",
        "same meaning reformatted", "hash in capitals", "prev_hash unreadable", "non-ASCII text edited",
    };

    private static string[] Tamper(string[] original, string how)
    {
        var lines = (string[])original.Clone();
        var hashOf4 = (string)JObject.Parse(lines[3])["hash"]!;
        switch (how)
        {
            case "field edited":
                lines[4] = lines[4].Replace("\"environment\":\"", "\"environment\":\"x");
                break;
            case "hash recomputed":
                var edited = AuditEventCodec.ParseLine(lines[4].Replace("\"environment\":\"", "\"environment\":\"x"));
                lines[4] = AuditEventCodec.ToLine(edited.WithChain(edited.Sequence, edited.PrevHash, ""), out _);
                break;
            case "line deleted":
                return lines.Where((_, i) => i != 4).ToArray();
            case "lines swapped":
                (lines[4], lines[5]) = (lines[5], lines[4]);
                break;
            case "event forged":
                return lines.Take(4).Append(AuditEventCodec.ToLine(Events.Toggled(99).WithChain(5, hashOf4, ""), out _)).Concat(lines.Skip(4)).ToArray();
            case "not json":
                lines[4] = "this is not json";
                break;
            case "half a line":
                lines[4] = lines[4][..(lines[4].Length / 2)];
                break;
            case "same meaning reformatted":
                lines[2] = new JObject(AuditEventCodec.ParseJson(lines[2]).Children<JProperty>().Reverse().Select(p => new JProperty(p.Name, p.Value))).ToString(Newtonsoft.Json.Formatting.None);
                break;
            case "hash in capitals":
                var at = lines[6].LastIndexOf("\"hash\":\"", StringComparison.Ordinal) + 8;
                lines[6] = lines[6][..at] + lines[6].Substring(at, 64).ToUpperInvariant() + lines[6][(at + 64)..];
                break;
            case "prev_hash unreadable":
                lines[7] = lines[7].Replace("\"prev_hash\":\"", "\"prev_hash\":\"zz");
                break;
            case "non-ASCII text edited":
                lines[8] = lines[8].Replace("\"user_id\":\"", "\"user_id\":\"ünï");
                break;
        }

        return lines;
    }

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task Every_line_reads_the_same_from_bytes_as_from_text(string how)
    {
        var lines = Tamper(await Chain(), how);

        for (var i = 0; i < lines.Length; i++)
        {
            Assert.Equal(ChainVerifier.ReadLink(lines[i], i + 1), ChainVerifier.ReadLink(Encoding.UTF8.GetBytes(lines[i]), i + 1));
        }
    }

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task The_byte_pipeline_gives_the_text_verifier_s_verdict(string how)
    {
        var lines = Tamper(await Chain(), how);

        var text = ChainVerifier.Verify("ledger", lines, ChainScanOptions.FromStart, None);
        foreach (var perBatch in new[] { 1, 7, 4096 })
        {
            var bytes = ChainVerifier.VerifyUtf8("ledger", Feed(lines, perBatch), ChainScanOptions.FromStart, None);
            Assert.Equivalent(text, bytes, strict: true);
        }

        Assert.Equal(how is "none" or "same meaning reformatted" or "hash in capitals", text.Valid);
    }

    [Fact]
    public async Task A_scan_from_a_seal_continues_the_chain_from_the_sealed_hash()
    {
        var lines = await Chain();
        var sealedHash = (string)JObject.Parse(lines[9])["hash"]!;
        Sha256Value.TryParse(sealedHash, out var hash);

        var rest = ChainVerifier.VerifyUtf8("ledger", Feed(lines[10..]), new ChainScanOptions { FirstSequence = 11, HashBefore = hash }, None);
        var wrongStart = ChainVerifier.VerifyUtf8("ledger", Feed(lines[11..]), new ChainScanOptions { FirstSequence = 11, HashBefore = hash }, None);

        Assert.True(rest.Valid, rest.Message);
        Assert.Equal(Count - 10, rest.Count);
        Assert.Equal((string)JObject.Parse(lines[^1])["hash"]!, rest.HeadHash);
        Assert.False(wrongStart.Valid);
        Assert.Equal("deleted", wrongStart.Problem);
        Assert.Equal(11, wrongStart.FirstBrokenSequence);
    }

    [Fact]
    public void An_empty_stream_is_an_empty_valid_chain()
    {
        var verdict = ChainVerifier.VerifyUtf8("ledger", Feed(Array.Empty<string>()), ChainScanOptions.FromStart, None);

        Assert.True(verdict.Valid);
        Assert.Equal(0, verdict.Count);
        Assert.Null(verdict.HeadHash);
    }

    [Fact]
    public async Task A_reading_failure_mid_stream_reaches_the_caller_unchanged()
    {
        var lines = await Chain();
        var feed = Feed(lines, 5);
        var calls = 0;
        var lost = new IOException("connection reset");

        var thrown = Assert.Throws<IOException>(() => ChainVerifier.VerifyUtf8("ledger", (batch, ct) => ++calls < 3 ? feed(batch, ct) : throw lost, ChainScanOptions.FromStart, None));

        Assert.Same(lost, thrown);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_cancelled_scan_stops_reading()
    {
        var lines = await Chain();
        using var cancel = new CancellationTokenSource();
        var feed = Feed(lines, 1);
        var calls = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => ChainVerifier.VerifyUtf8(
            "ledger",
            (batch, ct) =>
            {
                if (++calls == 3)
                {
                    cancel.Cancel();
                }

                return feed(batch, ct);
            },
            ChainScanOptions.FromStart,
            cancel.Token));
        Assert.True(calls < lines.Length);
    }
}
