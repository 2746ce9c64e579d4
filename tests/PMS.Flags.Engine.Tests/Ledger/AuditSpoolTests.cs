using System.Diagnostics;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>
/// The spool never blocks a new event, replays each event once (by event_id, under the ledger's lock), and is keyed by
/// the ledger's identity. Faults are real: a directory or FIFO where a spool file should be, a crash between append and
/// delete, two processes flushing at once.
/// </summary>
public sealed class AuditSpoolTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private JsonlLedger Ledger() => new(temp.Combine("state", "audit.jsonl"));

    private AuditSpool Spool() => new(temp.Combine("state", "spool"));

    [Fact]
    public async Task A_garbage_spool_file_that_cannot_be_moved_aside_the_old_way_is_quarantined_and_the_new_event_is_recorded()
    {
        var ledger = Ledger();
        var spool = Spool();
        var garbage = spool.Spool(ledger, Events.Toggled(1));
        File.WriteAllText(garbage, "{ not json");
        Directory.CreateDirectory(garbage + ".unreadable"); // where the old flush renamed unreadable files: a rename onto it fails
        var log = new CapturingLog();

        var record = await new AuditTrail(ledger, spool, log).RecordAsync(Events.Toggled(2), None);

        Assert.False(record.Spooled);
        Assert.Equal("reason-2", Assert.Single(ledger.Read(AuditQuery.All, None)).Reason);
        Assert.False(File.Exists(garbage));
        Assert.Single(Directory.GetFileSystemEntries(spool.QuarantineDirectory));
        Assert.Contains(log.Warnings, w => w.Contains("quarantine") || w.Contains(spool.QuarantineDirectory));
    }

    [Fact]
    public async Task A_FIFO_or_a_directory_in_the_spool_is_quarantined_without_being_opened()
    {
        var ledger = Ledger();
        var spool = Spool();
        var kept = spool.Spool(ledger, Events.Toggled(1));
        var fifo = kept.Replace(".json", "-fifo.json");
        var directory = kept.Replace(".json", "-dir.json");
        Run("mkfifo", fifo);
        Directory.CreateDirectory(Path.Combine(directory, "inside"));
        var log = new CapturingLog();

        var record = await new AuditTrail(ledger, spool, log).RecordAsync(Events.Toggled(2), None);

        Assert.False(record.Spooled);
        Assert.Equal(new[] { "reason-1", "reason-2" }, ledger.Read(AuditQuery.All, None).Select(e => e.Reason));
        Assert.Empty(spool.Pending(ledger));
        Assert.Equal(2, Directory.GetFileSystemEntries(spool.QuarantineDirectory).Length);
        Assert.Equal(2, log.Warnings.Count(w => w.Contains("quarantine", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task A_crash_between_append_and_delete_records_the_event_once()
    {
        var ledger = Ledger();
        var spool = Spool();
        var draft = Events.Toggled(1);
        var file = spool.Spool(ledger, draft);
        await ledger.AppendAsync(draft, None); // the first flusher appended, then died before deleting the file

        var flush = await spool.FlushAsync(ledger, NullOperationLog.Instance, None);

        Assert.Equal(1, flush.Flushed);
        Assert.False(File.Exists(file));
        Assert.Single(ledger.Read(AuditQuery.All, None));
        Assert.True((await ledger.VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task Two_processes_flushing_one_spool_at_once_record_each_event_once()
    {
        var ledger = Ledger();
        var spool = Spool();
        var drafts = Enumerable.Range(1, 30).Select(i => Events.Toggled(i)).ToArray();
        foreach (var draft in drafts)
        {
            spool.Spool(ledger, draft);
        }

        var go = temp.Combine("go");
        using var first = await WriterProcess.StartAsync("flush", ledger.Path, spool.Directory, "3", go);
        using var second = await WriterProcess.StartAsync("flush", ledger.Path, spool.Directory, "3", go);
        File.WriteAllText(go, "");
        Assert.True(await first.WaitAsync() == 0, await first.StderrAsync());
        Assert.True(await second.WaitAsync() == 0, await second.StderrAsync());

        var recorded = ledger.Read(AuditQuery.All, None).ToArray();
        Assert.Equal(drafts.Select(d => d.EventId).OrderBy(x => x), recorded.Select(e => e.EventId).OrderBy(x => x));
        Assert.Empty(spool.Pending(ledger));
        Assert.True((await ledger.VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task Events_spooled_through_one_spelling_of_the_ledger_reach_it_through_another()
    {
        var spool = Spool();
        var spelled = new JsonlLedger(temp.Combine("state", "..", "state", "audit.jsonl"));
        Directory.CreateDirectory(temp.Combine("state"));
        Directory.CreateSymbolicLink(temp.Combine("alias"), temp.Combine("state"));
        spool.Spool(spelled, Events.Toggled(1));

        var viaAlias = new JsonlLedger(temp.Combine("alias", "audit.jsonl"));
        var record = await new AuditTrail(viaAlias, spool, NullOperationLog.Instance).RecordAsync(Events.Toggled(2), None);

        Assert.False(record.Spooled);
        Assert.Equal(new[] { "reason-1", "reason-2" }, Ledger().Read(AuditQuery.All, None).Select(e => e.Reason));
    }

    [Fact]
    public async Task A_ledger_failing_with_a_driver_exception_gets_the_event_spooled()
    {
        var spool = Spool();
        var ledger = new ThrowingLedger(new InvalidOperationException("connection reset by the database driver"));

        var record = await new AuditTrail(ledger, spool, NullOperationLog.Instance).RecordAsync(Events.Toggled(1), None);

        Assert.True(record.Spooled);
        Assert.True(File.Exists(record.SpoolPath));
    }

    private static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    private sealed class ThrowingLedger : ILedger
    {
        private readonly Exception failure;

        public ThrowingLedger(Exception failure) => this.failure = failure;

        public string Name => "throwing";

        public string Identity => "test:throwing";

        public Task EnsureWritableAsync(CancellationToken cancellationToken) => Task.FromException(failure);

        public Task<IReadOnlyList<AuditEvent>> AppendAsync(IReadOnlyList<AuditEvent> drafts, LedgerExpectation? expectation, bool skipKnownEventIds, CancellationToken cancellationToken)
            => Task.FromException<IReadOnlyList<AuditEvent>>(failure);

        public Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken) => Task.FromException<long>(failure);

        public IAsyncEnumerable<AuditEvent> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => throw failure;

        public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => Task.FromException<ChainVerification>(failure);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
