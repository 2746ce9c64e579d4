using System.Diagnostics;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>The ledger seam: per-stream expected heads, multi-event appends as one unit, typed failures, stable identity.</summary>
public sealed class LedgerSeamTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static AuditEvent Toggle(string flag, string environment = "staging") => new() { EventType = "feature_flag_toggled", FeatureFlag = flag, Environment = environment, UserId = "u", Reason = "r" };

    [Fact]
    public async Task An_append_to_an_unrelated_stream_does_not_move_the_expected_stream()
    {
        var ledger = new JsonlLedger(temp.Combine("audit.jsonl"));
        await ledger.AppendAsync(Toggle("a"), None);
        var readAt = await ledger.GetHeadSequenceAsync(None);

        // Another team's flag, and the same flag in another environment, are other streams.
        await ledger.AppendAsync(Toggle("b"), None);
        await ledger.AppendAsync(Toggle("a", "production"), None);

        var appended = await Events.AppendAt(ledger, Toggle("a"), readAt);

        Assert.Equal(4, appended.Sequence);
        Assert.True((await ledger.VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task An_append_to_the_expected_stream_is_a_conflict_and_nothing_is_appended()
    {
        var ledger = new JsonlLedger(temp.Combine("audit.jsonl"));
        await ledger.AppendAsync(new AuditEvent { EventType = "rollout_started", FeatureFlag = "a", Environment = "staging", RolloutId = "r1" }, None);
        var readAt = await ledger.GetHeadSequenceAsync(None);
        for (var i = 0; i < 2000; i++)
        {
            await ledger.AppendAsync(Toggle("noise"), None);
        }

        await ledger.AppendAsync(new AuditEvent { EventType = "rollout_paused", FeatureFlag = "a", Environment = "staging", RolloutId = "R1" }, None);
        var before = File.ReadAllBytes(ledger.Path);

        var ex = await Assert.ThrowsAsync<LedgerException>(() => ledger.AppendAsync(
            new[] { new AuditEvent { EventType = "rollout_resumed", RolloutId = "r1" }, new AuditEvent { EventType = "x", RolloutId = "r1" } },
            new LedgerExpectation(LedgerStream.Rollout("r1"), readAt),
            false,
            None));

        Assert.Equal(LedgerFailure.Conflict, ex.Failure);
        Assert.Equal("LedgerHeadMoved", ex.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(ledger.Path));
    }

    [Fact]
    public async Task Several_events_are_appended_consecutively_as_one_chained_unit()
    {
        var ledger = new JsonlLedger(temp.Combine("audit.jsonl"));
        await ledger.AppendAsync(Toggle("a"), None);

        var stored = await ledger.AppendAsync(new[] { Toggle("b"), Toggle("c"), Toggle("d") }, null, false, None);

        Assert.Equal(new long[] { 2, 3, 4 }, stored.Select(e => e.Sequence));
        Assert.Equal(stored[0].Hash, stored[1].PrevHash);
        Assert.Equal(stored[1].Hash, stored[2].PrevHash);
        Assert.True((await ledger.VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task An_append_that_fails_part_way_on_a_full_disk_is_cut_back_to_the_last_complete_line()
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root", "this test mounts a 64 KiB tmpfs and must run as root, as CI does");
        var mountPoint = temp.Combine("tiny");
        Directory.CreateDirectory(mountPoint);
        Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint);
        try
        {
            var ledger = new JsonlLedger(Path.Combine(mountPoint, "audit.jsonl"));
            await ledger.AppendAsync(Toggle("a"), None);
            var before = File.ReadAllBytes(ledger.Path);

            // Leave about one page free, then append far more than that: the write lands part-way and fails.
            using (var filler = new FileStream(Path.Combine(mountPoint, "filler"), FileMode.Create))
            {
                var chunk = new byte[4096];
                try
                {
                    while (true)
                    {
                        filler.Write(chunk);
                        filler.Flush(true);
                    }
                }
                catch (IOException)
                {
                }

                filler.SetLength(Math.Max(0, filler.Length - 8192));
                filler.Flush(true);
            }

            var big = new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = "a", Environment = "staging", Reason = new string('x', 40_000) };
            var ex = await Assert.ThrowsAsync<LedgerException>(() => ledger.AppendAsync(big, None));

            Assert.Equal(LedgerFailure.Unavailable, ex.Failure);
            Assert.Equal(before, File.ReadAllBytes(ledger.Path));
            Assert.True((await ledger.VerifyAsync(None)).Valid);
            File.Delete(Path.Combine(mountPoint, "filler"));
            Assert.Equal(2, (await ledger.AppendAsync(Toggle("a"), None)).Sequence);
        }
        finally
        {
            Run("umount", mountPoint);
        }
    }

    [Fact]
    public async Task Two_spellings_of_one_ledger_have_one_identity()
    {
        var real = temp.Combine("state", "audit.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(real)!);
        Directory.CreateSymbolicLink(temp.Combine("alias"), temp.Combine("state"));
        var viaLink = new JsonlLedger(temp.Combine("alias", "audit.jsonl"));
        var viaDots = new JsonlLedger(temp.Combine("state", "..", "state", ".", "audit.jsonl"));
        await viaLink.AppendAsync(Toggle("a"), None);

        Assert.Equal(new JsonlLedger(real).Identity, viaLink.Identity);
        Assert.Equal(new JsonlLedger(real).Identity, viaDots.Identity);
        Assert.StartsWith("jsonl:/", viaLink.Identity);
    }

    [Fact]
    public async Task An_unreadable_ledger_is_LedgerUnreadable_not_a_raw_exception()
    {
        var path = temp.Combine("audit.jsonl");
        Directory.CreateDirectory(path);
        var ledger = new JsonlLedger(path);

        var read = Assert.Throws<LedgerException>(() => ledger.Read(AuditQuery.All, None).ToList());
        var verify = await Assert.ThrowsAsync<LedgerException>(() => ledger.VerifyAsync(None));

        Assert.Equal("LedgerUnreadable", read.ErrorId);
        Assert.Equal("LedgerUnreadable", verify.ErrorId);
        Assert.Equal(LedgerFailure.Unavailable, read.Failure);
    }

    private static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {stderr}");
    }
}
