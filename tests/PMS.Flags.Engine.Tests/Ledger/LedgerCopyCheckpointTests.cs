using System.Security.Cryptography;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>
/// LedgerCopy carries a ledger's signed checkpoints with its events (JSONL to PostgreSQL and back, against a real
/// PostgreSQL), refuses targets whose checkpoints diverge or whose byte offsets would not hold, and an interrupted copy
/// is completed by running it again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerCopyCheckpointTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();
    private readonly ECDsa sourceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly CheckpointSigner signer;
    private readonly string connectionString;

    public LedgerCopyCheckpointTests(PostgresCluster cluster)
    {
        connectionString = cluster.CreateDatabase("xunit_copycheckpoints");
        signer = new CheckpointSigner(sourceKey);
    }

    public void Dispose()
    {
        signer.Dispose();
        temp.Dispose();
    }

    [Fact]
    public async Task JsonlToPostgresAndBackKeepsEveryCheckpointAndItVerifies()
    {
        var source = await SealedJsonl("source.jsonl", 5);
        var postgres = await OpenPostgres();

        var plan = await LedgerCopy.PlanAsync(source, postgres, None);
        Assert.Equal((5L, 5L, 0L), (plan.Copied, plan.CheckpointsCopied, plan.CheckpointsAlreadyPresent));
        var result = await LedgerCopy.CopyAsync(source, postgres, plan, None);

        Assert.Equal((5L, 5L), (result.Copied, result.CheckpointsCopied));
        Assert.Equal(Documents(source.Checkpoints), Documents(postgres.Checkpoints));
        using (var keys = signer.PublicKeyRing())
        {
            var verdict = CheckpointVerifier.Verify(postgres, postgres.Checkpoints, keys, null, 0, None);
            Assert.True(verdict.Valid, verdict.Message);
            Assert.True(verdict.CheckpointVerified);
            Assert.Equal(5L, verdict.SealedSequence);
        }

        var back = new JsonlLedger(temp.Combine("back.jsonl"));
        var backResult = await LedgerCopy.CopyAsync(postgres, back, await LedgerCopy.PlanAsync(postgres, back, None), None);

        Assert.Equal((5L, 5L), (backResult.Copied, backResult.CheckpointsCopied));
        Assert.Equal(File.ReadAllBytes(source.Path), File.ReadAllBytes(back.Path));
        Assert.Equal(File.ReadAllBytes(((JsonlCheckpointStore)source.Checkpoints).Path), File.ReadAllBytes(((JsonlCheckpointStore)back.Checkpoints).Path));
        using (var keys = signer.PublicKeyRing())
        {
            // Verification on open starts at the last checkpoint's byte offset: it must hold in the copied file.
            Assert.True(LedgerOpening.Verify(back, false, keys, None).Valid);
            var verdict = CheckpointVerifier.Verify(back, back.Checkpoints, keys, null, 0, None);
            Assert.True(verdict.Valid, verdict.Message);
            Assert.True(verdict.CheckpointVerified);
        }
    }

    [Fact]
    public async Task MoreCheckpointsThanOneBatchArriveInOrderAndVerify()
    {
        // Every event sealed, as with Connect-FlagLedger -SigningKeyPath: 1,005 checkpoints cross the copy's batches.
        const int count = 1005;
        var source = new JsonlLedger(temp.Combine("many.jsonl"));
        await source.AppendAsync(Enumerable.Range(1, count).Select(i => Events.Toggled(i)).ToArray(), null, false, None);
        var sealer = new CheckpointSealer(signer, source.Checkpoints);
        var bytes = File.ReadAllBytes(source.Path);
        long end = 0;
        foreach (var e in await source.ReadListAsync(AuditQuery.All, None))
        {
            end = Array.IndexOf(bytes, (byte)'\n', (int)end) + 1;
            sealer.Seal(e.Sequence, e.Hash!, end, DateTimeOffset.UtcNow);
        }

        var postgres = await OpenPostgres();
        var there = await LedgerCopy.CopyAsync(source, postgres, await LedgerCopy.PlanAsync(source, postgres, None), None);
        var back = new JsonlLedger(temp.Combine("many-back.jsonl"));
        var home = await LedgerCopy.CopyAsync(postgres, back, await LedgerCopy.PlanAsync(postgres, back, None), None);

        Assert.Equal(((long)count, (long)count), (there.CheckpointsCopied, home.CheckpointsCopied));
        Assert.Equal(File.ReadAllBytes(((JsonlCheckpointStore)source.Checkpoints).Path), File.ReadAllBytes(((JsonlCheckpointStore)back.Checkpoints).Path));
        using var keys = signer.PublicKeyRing();
        foreach (var (ledger, store) in new (ILedger, ICheckpointStore)[] { (postgres, postgres.Checkpoints), (back, back.Checkpoints) })
        {
            var verdict = ledger is PostgresLedger table ? CheckpointVerifier.Verify(table, store, keys, null, 0, None) : CheckpointVerifier.Verify((JsonlLedger)ledger, store, keys, null, 0, None);
            Assert.True(verdict.Valid, verdict.Message);
            Assert.True(verdict.CheckpointVerified);
            Assert.Equal((long)count, verdict.SealedSequence);
        }
    }

    [Fact]
    public async Task ATargetThatSealsItselfLeavesTheCopiedCheckpointsAloneAndChainsOnToThem()
    {
        var source = await SealedJsonl("source.jsonl", 3);
        var targetKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var targetSigner = new CheckpointSigner(targetKey);
        var postgres = await OpenPostgres();
        postgres.Sealer = new CheckpointSealer(targetSigner, postgres.Checkpoints);

        await LedgerCopy.CopyAsync(source, postgres, await LedgerCopy.PlanAsync(source, postgres, None), None);
        await postgres.AppendAsync(Events.Toggled(99), None);

        Assert.Same(targetSigner, postgres.Sealer!.Signer);
        var checkpoints = postgres.Checkpoints.ReadAll().ToList();
        Assert.Equal(4, checkpoints.Count);
        Assert.Equal(Documents(source.Checkpoints), checkpoints.Take(3).Select(c => c.ToLine()).ToList());
        Assert.Equal(checkpoints[2].Signature, checkpoints[3].PreviousSignature);
        Assert.Equal((4L, targetSigner.Fingerprint), (checkpoints[3].Sequence, checkpoints[3].KeyFingerprint));
        using var keys = new CheckpointKeyRing(new[] { PublicHalf(sourceKey), PublicHalf(targetKey) });
        var verdict = CheckpointVerifier.Verify(postgres, postgres.Checkpoints, keys, null, 0, None);
        Assert.True(verdict.Valid, verdict.Message);
        Assert.True(verdict.CheckpointVerified);
    }

    [Fact]
    public async Task AnInterruptedCopyLeavesAPrefixAndRunningItAgainCompletesIt()
    {
        var source = await SealedJsonl("source.jsonl", 4);
        var target = new JsonlLedger(temp.Combine("target.jsonl"));
        var plan = await LedgerCopy.PlanAsync(source, target, None);
        // The checkpoint file's path turns into a folder after the check: the events land, the checkpoints cannot.
        Directory.CreateDirectory(((JsonlCheckpointStore)target.Checkpoints).Path);

        var failed = await Assert.ThrowsAsync<FlagsException>(() => LedgerCopy.CopyAsync(source, target, plan, None));

        Assert.Equal("AuditCopyIncomplete", failed.ErrorId);
        Assert.True(failed.ChangeWasMade);
        Assert.Contains("4 of 4 event(s) and 0 of 4 checkpoint(s)", failed.Message);
        Assert.Equal(File.ReadAllBytes(source.Path), File.ReadAllBytes(target.Path));

        Directory.Delete(((JsonlCheckpointStore)target.Checkpoints).Path);
        var again = await LedgerCopy.PlanAsync(source, target, None);
        Assert.Equal((4L, 0L, 0L, 4L), (again.AlreadyPresent, again.Copied, again.CheckpointsAlreadyPresent, again.CheckpointsCopied));
        var completed = await LedgerCopy.CopyAsync(source, target, again, None);

        Assert.Equal((0L, 4L), (completed.Copied, completed.CheckpointsCopied));
        Assert.Equal(Documents(source.Checkpoints), Documents(target.Checkpoints));
        using var keys = signer.PublicKeyRing();
        var verdict = CheckpointVerifier.Verify(target, target.Checkpoints, keys, null, 0, None);
        Assert.True(verdict.Valid, verdict.Message);
        Assert.True(verdict.CheckpointVerified);

        var nothingLeft = await LedgerCopy.PlanAsync(source, target, None);
        Assert.Equal((0L, 4L, 0L), (nothingLeft.Copied, nothingLeft.CheckpointsAlreadyPresent, nothingLeft.CheckpointsCopied));
    }

    [Fact]
    public async Task ATargetCheckpointThatIsNotTheSourcesIsRefusedBeforeAnythingIsWritten()
    {
        var source = await SealedJsonl("source.jsonl", 3);
        var postgres = await OpenPostgres();
        // The target holds the source's second checkpoint where its first belongs (one was lost on the way).
        postgres.Checkpoints.Append(source.Checkpoints.ReadAll().ElementAt(1));
        var eventsBefore = await postgres.GetHeadSequenceAsync(None);

        var refused = await Assert.ThrowsAsync<FlagsException>(() => LedgerCopy.PlanAsync(source, postgres, None));

        Assert.Equal("AuditCopyCheckpointsDiverged", refused.ErrorId);
        Assert.Equal(eventsBefore, await postgres.GetHeadSequenceAsync(None));
        Assert.Single(postgres.Checkpoints.ReadAll());
    }

    [Fact]
    public async Task ACheckpointWhoseByteOffsetWouldNotHoldInTheTargetFileIsRefusedBeforeAnythingIsWritten()
    {
        var source = new JsonlLedger(temp.Combine("source.jsonl"));
        for (var i = 1; i <= 2; i++)
        {
            await source.AppendAsync(Events.Toggled(i), None);
        }

        // Signed, and sealing the right head, but naming an offset where no line of a copy would end.
        var head = (await source.ReadListAsync(AuditQuery.All, None)).Last();
        source.Checkpoints.Append(signer.Sign(new Checkpoint { Sequence = 2, HeadHash = head.Hash!, LedgerLength = 7, Timestamp = DateTimeOffset.UtcNow, KeyFingerprint = signer.Fingerprint }));
        var target = new JsonlLedger(temp.Combine("target.jsonl"));

        var refused = await Assert.ThrowsAsync<FlagsException>(() => LedgerCopy.PlanAsync(source, target, None));

        Assert.Equal("AuditCopyCheckpointMisplaced", refused.ErrorId);
        Assert.False(File.Exists(target.Path) && new FileInfo(target.Path).Length > 0);
        Assert.False(target.Checkpoints.Exists);
    }

    private async Task<JsonlLedger> SealedJsonl(string name, int count)
    {
        var ledger = new JsonlLedger(temp.Combine(name));
        ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
        for (var i = 1; i <= count; i++)
        {
            await ledger.AppendAsync(Events.Toggled(i), None);
        }

        return ledger;
    }

    private async Task<PostgresLedger> OpenPostgres()
        => await PostgresLedger.OpenAsync(DatabaseTarget.Parse(connectionString, TimeSpan.FromSeconds(10)), "copy_" + Guid.NewGuid().ToString("N")[..8], None);

    private static List<string> Documents(ICheckpointStore store) => store.ReadAll().Select(c => c.ToLine()).ToList();

    private static ECDsa PublicHalf(ECDsa key)
    {
        var copy = ECDsa.Create();
        copy.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        return copy;
    }
}
