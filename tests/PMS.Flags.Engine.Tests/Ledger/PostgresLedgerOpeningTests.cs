using System.Security.Cryptography;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>
/// Opening a PostgreSQL ledger verifies from the last seal on, as a JSONL ledger does from the checkpoint's offset:
/// tampering after the seal, a missing or rewritten sealed row are refused; what lies before an intact seal is left to
/// Test-FlagAuditChain. A skipped verification is recorded in the next event, and a verification that loses its server
/// half-way is Unavailable.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerOpeningTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly PostgresCluster cluster;
    private readonly string connectionString;
    private readonly string databaseName;
    private readonly CheckpointSigner signer = new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public PostgresLedgerOpeningTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
        connectionString = cluster.CreateDatabase("xunit_pgopening");
        databaseName = connectionString.Split("Database=")[1];
    }

    public void Dispose() => signer.Dispose();

    private async Task<PostgresLedger> Open(bool sealing)
    {
        var ledger = await PostgresLedger.OpenAsync(DatabaseTarget.Parse(connectionString, TimeSpan.FromSeconds(10)), null, None);
        if (sealing)
        {
            ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
        }

        return ledger;
    }

    private string Sql(string sql) => cluster.Sql(sql, databaseName);

    private void AsSuperuserWithoutTriggers(string sql) => Sql($"ALTER TABLE pms_flags.events DISABLE TRIGGER USER; {sql}; ALTER TABLE pms_flags.events ENABLE TRIGGER USER");

    private static AuditEvent Event(int n, string reason = "") => new()
    {
        Timestamp = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n),
        EventType = "feature_flag_toggled",
        UserId = "alice@pms.example",
        FeatureFlag = "new_billing",
        Environment = "production",
        Reason = $"step {n}{reason}",
        EventId = $"00000000-0000-0000-0000-{n:D12}",
    };

    /// <summary>#1..#6 appended and sealed one by one, then #7..#10 appended by a writer without a key (unsealed).</summary>
    private async Task<PostgresLedger> SealedAtSixOfTen()
    {
        var sealing = await Open(sealing: true);
        for (var n = 1; n <= 6; n++)
        {
            await sealing.AppendAsync(new[] { Event(n) }, null, false, None);
        }

        var unsealed = await Open(sealing: false);
        await unsealed.AppendAsync(Enumerable.Range(7, 4).Select(n => Event(n)).ToArray(), null, false, None);
        Assert.Equal(6, unsealed.Checkpoints.ReadLast()!.Sequence);
        return unsealed;
    }

    private static long LinesReadOnOpen(PostgresLedger ledger, CheckpointKeyRing keys, out ChainVerification verdict)
    {
        long read = 0;
        ledger.BatchRead = batch => Interlocked.Add(ref read, batch.Count);
        try
        {
            verdict = LedgerOpening.VerifyPostgres(ledger, skip: true, keys, None);
        }
        finally
        {
            ledger.BatchRead = null;
        }

        return read;
    }

    [Fact]
    public async Task Opening_reads_only_the_rows_after_the_seal_and_leaves_the_sealed_part_to_the_full_verification()
    {
        var ledger = await SealedAtSixOfTen();
        using var keys = signer.PublicKeyRing();

        Assert.Equal(4, LinesReadOnOpen(ledger, keys, out var intact));
        Assert.True(intact.Valid, intact.Message);
        Assert.Equal(6, intact.SealedSequence);
        Assert.Equal(Sql("SELECT hash FROM pms_flags.events WHERE sequence = 10"), intact.HeadHash);

        // Before the seal, as on a JSONL ledger before the checkpoint's offset: not read on open, named by Test-FlagAuditChain.
        AsSuperuserWithoutTriggers("UPDATE pms_flags.events SET line = replace(line, 'step 3', 'step 33') WHERE sequence = 3");
        Assert.Equal(4, LinesReadOnOpen(ledger, keys, out var stillOpens));
        Assert.True(stillOpens.Valid, stillOpens.Message);
        var full = CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, null, 0, None);
        Assert.False(full.Valid);
        Assert.Equal(3, full.FirstBrokenSequence);
        Assert.Equal("modified", full.Problem);
    }

    [Fact]
    public async Task Without_a_checkpoint_opening_reads_the_whole_chain()
    {
        var ledger = await Open(sealing: false);
        await ledger.AppendAsync(Enumerable.Range(1, 10).Select(n => Event(n)).ToArray(), null, false, None);
        using var keys = signer.PublicKeyRing();

        Assert.Equal(10, LinesReadOnOpen(ledger, keys, out var verdict));
        Assert.True(verdict.Valid, verdict.Message);
        Assert.Null(verdict.SealedSequence);
    }

    [Fact]
    public async Task An_edit_after_the_seal_is_refused_on_open_and_nothing_is_written()
    {
        var ledger = await SealedAtSixOfTen();
        AsSuperuserWithoutTriggers("UPDATE pms_flags.events SET line = replace(line, 'step 8', 'step 88') WHERE sequence = 8");
        using var keys = signer.PublicKeyRing();

        var refused = Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None));

        Assert.Equal("LedgerTampered", refused.ErrorId);
        Assert.Contains("#8 (modified)", refused.Message, StringComparison.Ordinal);
        Assert.Null(ledger.SkippedVerification);
        Assert.Equal("10", Sql("SELECT count(*) FROM pms_flags.events"));
    }

    [Fact]
    public async Task A_row_deleted_after_the_seal_is_refused_on_open()
    {
        var ledger = await SealedAtSixOfTen();
        AsSuperuserWithoutTriggers("DELETE FROM pms_flags.events WHERE sequence = 8");
        using var keys = signer.PublicKeyRing();

        Assert.Equal(3, LinesReadOnOpen(ledger, keys, out var verdict));
        Assert.False(verdict.Valid);
        Assert.Equal(8, verdict.FirstBrokenSequence);
        Assert.Equal("deleted", verdict.Problem);
        Assert.Equal("LedgerTampered", Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None)).ErrorId);
    }

    [Fact]
    public async Task Rows_deleted_through_the_sealed_one_fall_back_to_the_whole_chain_which_names_the_truncation()
    {
        var ledger = await SealedAtSixOfTen();
        AsSuperuserWithoutTriggers("DELETE FROM pms_flags.events WHERE sequence > 4");
        using var keys = signer.PublicKeyRing();

        Assert.Equal(4, LinesReadOnOpen(ledger, keys, out var verdict));
        Assert.False(verdict.Valid);
        Assert.Equal(5, verdict.FirstBrokenSequence);
        Assert.Equal("truncated", verdict.Problem);
    }

    [Fact]
    public async Task A_rewritten_sealed_row_falls_back_to_the_whole_chain_which_names_it()
    {
        var ledger = await SealedAtSixOfTen();
        AsSuperuserWithoutTriggers("UPDATE pms_flags.events SET line = replace(line, 'step 6', 'step 66') WHERE sequence = 6");
        using var keys = signer.PublicKeyRing();

        Assert.Equal(10, LinesReadOnOpen(ledger, keys, out var verdict));
        Assert.False(verdict.Valid);
        Assert.Equal(6, verdict.FirstBrokenSequence);
        Assert.Equal("modified", verdict.Problem);
        Assert.Equal("LedgerTampered", Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None)).ErrorId);
    }

    [Fact]
    public async Task A_verification_skipped_on_open_is_recorded_in_the_next_event_only()
    {
        var ledger = await Open(sealing: false);
        await ledger.AppendAsync(Enumerable.Range(1, 5).Select(n => Event(n)).ToArray(), null, false, None);
        AsSuperuserWithoutTriggers("UPDATE pms_flags.events SET line = replace(line, 'step 2', 'step 22') WHERE sequence = 2");

        var opened = LedgerOpening.VerifyPostgres(ledger, skip: true, null, None);
        var next = (await ledger.AppendAsync(new[] { Event(6) }, null, false, None)).Single();
        var after = (await ledger.AppendAsync(new[] { Event(7) }, null, false, None)).Single();

        Assert.False(opened.Valid);
        Assert.StartsWith("modified at #2 (", (string)Newtonsoft.Json.Linq.JObject.Parse(next.Details!)["verification_skipped"]!, StringComparison.Ordinal);
        Assert.Contains("verification_skipped", Sql("SELECT line FROM pms_flags.events WHERE sequence = 6"), StringComparison.Ordinal);
        Assert.Null(after.Details);
        Assert.Null(ledger.SkippedVerification);
    }

    [Fact]
    public async Task A_server_that_goes_away_in_the_middle_of_a_verification_is_unavailable()
    {
        var ledger = await Open(sealing: false);
        // Enough bytes that the rows still unsent when the first batch arrives exceed what the sockets buffer.
        var padding = " " + new string('x', 4000);
        for (var from = 1; from <= 8000; from += 2000)
        {
            await ledger.AppendAsync(Enumerable.Range(from, 2000).Select(n => Event(n, padding)).ToArray(), null, false, None);
        }

        var terminated = false;
        ledger.BatchRead = _ =>
        {
            if (!terminated)
            {
                terminated = true;
                Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT line FROM pms_flags.events%' AND pid <> pg_backend_pid()");
            }
        };

        var failed = Assert.Throws<LedgerException>(() => ledger.Verify(ChainScanOptions.FromStart, None));

        Assert.True(terminated);
        Assert.Equal(LedgerFailure.Unavailable, failed.Failure);
        Assert.Equal(PostgresLedgerFailures.Unavailable, failed.ErrorId);
        Assert.DoesNotContain(cluster.Password, failed.Message, StringComparison.Ordinal);
        ledger.BatchRead = null;
        Assert.True((await ledger.VerifyAsync(None)).Valid);
    }
}
