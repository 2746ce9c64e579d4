using System.Security.Cryptography;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>Signed checkpoints on the PostgreSQL ledger, against a real PostgreSQL: sealed per append, verified, and a superuser's rewrite caught.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCheckpointTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly PostgresCluster cluster;
    private readonly string connectionString;
    private readonly string databaseName;
    private readonly CheckpointSigner signer = new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public PostgresCheckpointTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
        connectionString = cluster.CreateDatabase("xunit_pgcheckpoints");
        databaseName = connectionString.Split("Database=")[1];
    }

    public void Dispose() => signer.Dispose();

    private async Task<PostgresLedger> Open(bool sealing = true)
    {
        var ledger = await PostgresLedger.OpenAsync(DatabaseTarget.Parse(connectionString, TimeSpan.FromSeconds(10)), null, None);
        if (sealing)
        {
            ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
        }

        return ledger;
    }

    private string Sql(string sql) => cluster.Sql(sql, databaseName);

    private static AuditEvent Event(int n) => new()
    {
        Timestamp = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n),
        EventType = "feature_flag_toggled",
        UserId = "alice@pms.example",
        FeatureFlag = "new_billing",
        Environment = "production",
        Reason = $"step {n}",
        EventId = $"00000000-0000-0000-0000-{n:D12}",
    };

    private static async Task AppendEach(PostgresLedger ledger, int from, int to)
    {
        for (var n = from; n <= to; n++)
        {
            await ledger.AppendAsync(new[] { Event(n) }, null, false, None);
        }
    }

    [Fact]
    public async Task Every_append_is_sealed_in_the_checkpoints_table_and_verifies_with_the_public_key()
    {
        var ledger = await Open();
        await AppendEach(ledger, 1, 5);

        var checkpoints = ledger.Checkpoints.ReadAll().ToList();
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, checkpoints.Select(c => c.Sequence));
        Assert.Equal("1 2 3 4 5", Sql("SELECT string_agg(number::text, ' ' ORDER BY number) FROM pms_flags.checkpoints"));
        Assert.Equal(Sql("SELECT hash FROM pms_flags.events WHERE sequence = 5"), ledger.Checkpoints.ReadLast()!.HeadHash);
        Assert.All(checkpoints.Skip(1).Zip(checkpoints), pair => Assert.Equal(pair.Second.Signature, pair.First.PreviousSignature));

        using var keys = signer.PublicKeyRing();
        var verdict = CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, null, 0, None);
        Assert.True(verdict.Valid, verdict.Message);
        Assert.True(verdict.CheckpointVerified);
        Assert.Equal(5, verdict.SealedSequence);
        Assert.True(LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None).Valid);
    }

    [Fact]
    public async Task Rows_deleted_by_a_superuser_who_disabled_the_trigger_are_caught_on_open_and_by_the_verifier()
    {
        var ledger = await Open();
        await AppendEach(ledger, 1, 6);
        Sql("ALTER TABLE pms_flags.events DISABLE TRIGGER USER; DELETE FROM pms_flags.events WHERE sequence > 3; ALTER TABLE pms_flags.events ENABLE TRIGGER USER");

        // The remaining chain is intact on its own: only the checkpoint knows it was longer.
        Assert.True((await ledger.VerifyAsync(None)).Valid);
        using var keys = signer.PublicKeyRing();
        var verdict = CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, null, 0, None);
        Assert.False(verdict.Valid);
        Assert.False(verdict.CheckpointVerified);
        var refused = Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None));
        Assert.Equal("LedgerTampered", refused.ErrorId);
        Assert.Equal("3", Sql("SELECT count(*) FROM pms_flags.events"));
        Assert.Equal("6", Sql("SELECT count(*) FROM pms_flags.checkpoints"));
        Assert.False(LedgerOpening.VerifyPostgres(ledger, skip: true, keys, None).Valid);
    }

    [Fact]
    public async Task A_consistent_rewrite_of_the_whole_chain_is_caught_because_the_sealed_head_is_gone()
    {
        var ledger = await Open();
        await AppendEach(ledger, 1, 4);
        Sql("ALTER TABLE pms_flags.events DISABLE TRIGGER USER; DELETE FROM pms_flags.events; ALTER TABLE pms_flags.events ENABLE TRIGGER USER");
        var forger = await Open(sealing: false);
        await forger.AppendAsync(Enumerable.Range(11, 4).Select(Event).ToArray(), null, false, None);

        Assert.True((await forger.VerifyAsync(None)).Valid);
        using var keys = signer.PublicKeyRing();
        var verdict = CheckpointVerifier.Verify(forger, forger.Checkpoints, keys, null, 0, None);
        Assert.False(verdict.Valid);
        Assert.Equal(4, verdict.FirstBrokenSequence);
        Assert.Equal("LedgerTampered", Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(forger, skip: false, keys, None)).ErrorId);
    }

    [Fact]
    public async Task A_checkpoint_row_forged_without_the_key_fails_its_signature()
    {
        var ledger = await Open();
        await AppendEach(ledger, 1, 2);
        var last = ledger.Checkpoints.ReadLast()!;
        var forged = new Checkpoint { Sequence = 2, HeadHash = last.HeadHash, Timestamp = last.Timestamp.AddMinutes(1), PreviousSignature = last.Signature, KeyFingerprint = signer.Fingerprint }.WithSignature(last.Signature);
        ledger.Checkpoints.Append(forged);

        using var keys = signer.PublicKeyRing();
        var verdict = CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, null, 0, None);
        Assert.False(verdict.Valid);
        Assert.Equal("signature_invalid", verdict.Problem);
        Assert.Equal("LedgerTampered", Assert.Throws<LedgerException>(() => LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None)).ErrorId);
        Assert.Equal("3", Sql("SELECT count(*) FROM pms_flags.checkpoints"));
    }

    [Fact]
    public async Task A_checkpoint_that_cannot_be_written_leaves_the_append_committed()
    {
        var ledger = await Open();
        await AppendEach(ledger, 1, 1);
        Sql("ALTER TABLE pms_flags.checkpoints ADD CONSTRAINT refuse_all CHECK (number < 2)");

        await AppendEach(ledger, 2, 2);

        Assert.Equal("2", Sql("SELECT count(*) FROM pms_flags.events"));
        Assert.Equal("1", Sql("SELECT count(*) FROM pms_flags.checkpoints"));
        var error = Assert.Throws<FlagsException>(() => ledger.Checkpoints.Append(ledger.Checkpoints.ReadLast()!));
        Assert.Equal("CheckpointUnwritable", error.ErrorId);
        using var keys = signer.PublicKeyRing();
        Assert.True(LedgerOpening.VerifyPostgres(ledger, skip: false, keys, None).Valid);
    }
}
