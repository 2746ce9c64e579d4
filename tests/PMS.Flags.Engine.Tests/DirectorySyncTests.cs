using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>
/// Issue 9, item 6: a rename lives in its directory, so the flag document's and the spool files' renames must be
/// followed by an fsync of that directory. Observed through DirectorySync's Flushing seam: at the moment of each flush
/// the rename must already be done (the new name holds the new bytes, no temporary file is left).
/// </summary>
public sealed class DirectorySyncTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Runs <paramref name="work"/> and returns, for every flush of a directory under this test's folder, what <paramref name="look"/> saw then.</summary>
    private async Task<List<(string Directory, T Seen)>> ObserveFlushes<T>(Func<Task> work, Func<string, T> look)
    {
        var seen = new List<(string, T)>();
        void Observe(string directory)
        {
            if (directory.StartsWith(temp.Path, StringComparison.Ordinal))
            {
                lock (seen)
                {
                    seen.Add((directory, look(directory)));
                }
            }
        }

        DirectorySync.Flushing += Observe;
        try
        {
            await work();
        }
        finally
        {
            DirectorySync.Flushing -= Observe;
        }

        return seen;
    }

    [Fact]
    public async Task A_flag_document_write_fsyncs_its_directory_after_the_rename()
    {
        var path = temp.WriteText("feature_flags.json", "{ \"production\": { \"a\": false } }");
        var store = new LocalFileFlagStore(path);

        var flushes = await ObserveFlushes(
            () => store.ApplyAsync(new FlagChange("a", "production", FlagChangeKind.SetPercentage, 25m), CancellationToken.None),
            directory => (Text: File.ReadAllText(path), Temporaries: Directory.GetFiles(directory, "*.tmp").Length));

        var (directory, seen) = Assert.Single(flushes);
        Assert.Equal(temp.Path, directory);
        Assert.Contains("\"rollout_percentage\": 25", seen.Text, StringComparison.Ordinal);
        Assert.Equal(0, seen.Temporaries);
    }

    [Fact]
    public async Task A_spooled_event_fsyncs_the_spool_directory_after_its_rename()
    {
        var spool = new AuditSpool(temp.Combine("state", "spool"));
        var ledger = new JsonlLedger(temp.Combine("state", "audit.jsonl"));
        string? spooled = null;

        var flushes = await ObserveFlushes(
            () =>
            {
                spooled = spool.Spool(ledger, Events.Toggled(1));
                return Task.CompletedTask;
            },
            directory => Directory.GetFiles(directory).Select(Path.GetFileName).ToArray());

        var (directory, files) = Assert.Single(flushes);
        Assert.Equal(spool.Directory, directory);
        Assert.Equal(new[] { Path.GetFileName(spooled) }, files);
    }

    [Fact]
    public async Task A_quarantined_spool_entry_fsyncs_both_directories_after_the_move()
    {
        var spool = new AuditSpool(temp.Combine("state", "spool"));
        var ledger = new JsonlLedger(temp.Combine("state", "audit.jsonl"));
        var garbage = spool.Spool(ledger, Events.Toggled(1));
        File.WriteAllText(garbage, "{ not json");

        var flushes = await ObserveFlushes(
            () => new AuditTrail(ledger, spool, new CapturingLog()).RecordAsync(Events.Toggled(2), CancellationToken.None),
            directory => Directory.GetFileSystemEntries(spool.QuarantineDirectory).Length);

        Assert.Contains(flushes, f => f.Directory == spool.Directory && f.Seen == 1);
        Assert.Contains(flushes, f => f.Directory == spool.QuarantineDirectory && f.Seen == 1);
        Assert.False(File.Exists(garbage));
    }
}
