using System.Security.Cryptography;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>
/// Signed checkpoints catch what a hash chain alone cannot: a cut-off tail, a consistent rewrite, a forged or deleted
/// checkpoint, a rollback to an earlier head; a key rotation is accepted when both public keys are trusted.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private string LedgerPath => temp.Combine("audit.jsonl");

    private string CheckpointPath => LedgerPath + JsonlCheckpointStore.DefaultSuffix;

    private string NewKey(string name, out string publicPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privatePath = temp.WriteText(name + ".pem", key.ExportECPrivateKeyPem());
        publicPath = temp.WriteText(name + ".pub.pem", key.ExportSubjectPublicKeyInfoPem());
        return privatePath;
    }

    private static JsonlLedger Sealed(string path, string privateKeyPath)
    {
        var ledger = new JsonlLedger(path);
        ledger.Sealer = new CheckpointSealer(CheckpointSigner.FromPemFile(privateKeyPath), ledger.Checkpoints);
        return ledger;
    }

    private static async Task Append(ILedger ledger, int from, int to)
    {
        for (var i = from; i <= to; i++)
        {
            await ledger.AppendAsync(Events.Toggled(i), None);
        }
    }

    private ChainVerification Verify(params string[] publicKeys) => VerifyKept(null, publicKeys);

    private ChainVerification VerifyKept(string? expectedHead, params string[] publicKeys)
    {
        var ledger = new JsonlLedger(LedgerPath);
        using var keys = publicKeys.Length == 0 ? null : CheckpointKeyRing.FromPemFiles(publicKeys);
        return CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, expectedHead, 0, None);
    }

    private static void AssertProblem(ChainVerification verdict, string problem, long? sequence)
    {
        Assert.False(verdict.Valid);
        Assert.False(verdict.CheckpointVerified);
        Assert.Equal(problem, verdict.Problem);
        Assert.Equal(sequence, verdict.FirstBrokenSequence);
        Assert.False(string.IsNullOrEmpty(verdict.Message));
    }

    [Fact]
    public async Task A_sealed_ledger_verifies_with_its_public_key_and_counts_what_is_unsealed()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 10);
        await Append(new JsonlLedger(LedgerPath), 11, 13); // appended by a session without the key: unsealed

        var verdict = Verify(publicKey);

        Assert.True(verdict.Valid, verdict.Message);
        Assert.True(verdict.CheckpointVerified);
        Assert.Equal(13, verdict.Count);
        Assert.Equal(10, verdict.SealedSequence);
        Assert.Equal((string?)JObject.Parse(Events.Lines(LedgerPath)[9])["hash"], verdict.SealedHead);
        Assert.Equal(3, verdict.UnsealedCount);
        Assert.Equal(10, Events.Lines(CheckpointPath).Length);
    }

    [Fact]
    public async Task Dropping_the_last_events_is_truncated()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 10);
        Events.WriteLines(LedgerPath, Events.Lines(LedgerPath).Take(8));

        AssertProblem(Verify(publicKey), "truncated", 9);
        AssertProblem(Verify(), "truncated", 9); // the checkpoints' content alone catches it, even without a key
    }

    [Fact]
    public async Task A_consistent_rewrite_without_the_key_is_detected_as_modified_at_the_sealed_event()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 10);
        var rewritten = temp.Combine("rewritten.jsonl");
        var forger = new JsonlLedger(rewritten);
        foreach (var e in new JsonlLedger(LedgerPath).Read(AuditQuery.All, None))
        {
            // Same events, one reason changed, every hash recomputed: the chain alone is valid.
            await forger.AppendAsync(new AuditEvent { Timestamp = e.Timestamp, EventType = e.EventType, UserId = e.UserId, FeatureFlag = e.FeatureFlag, Environment = e.Environment, Reason = e.Sequence == 4 ? "nothing to see" : e.Reason, EventId = e.EventId }, None);
        }

        File.Copy(rewritten, LedgerPath, overwrite: true);
        Assert.True(new JsonlLedger(LedgerPath).Verify(None).Valid);

        AssertProblem(Verify(publicKey), "modified", 10);
    }

    [Fact]
    public async Task A_checkpoint_forged_without_the_key_is_signature_invalid_and_a_foreign_key_is_named()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 5);
        var lines = Events.Lines(CheckpointPath);
        var last = JObject.Parse(lines[^1]);
        last["timestamp"] = "2030-01-01T00:00:00.0000000Z"; // any change to a signed field
        Events.WriteLines(CheckpointPath, lines[..^1].Append(last.ToString(Newtonsoft.Json.Formatting.None)));

        AssertProblem(Verify(publicKey), "signature_invalid", 5);
    }

    [Fact]
    public async Task A_deleted_checkpoint_file_is_checkpoint_missing_when_keys_are_given()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 5);
        File.Delete(CheckpointPath);

        AssertProblem(Verify(publicKey), "checkpoint_missing", null);
        Assert.True(Verify().Valid); // without keys there is nothing to expect
    }

    [Fact]
    public async Task A_rollback_of_ledger_and_checkpoints_to_an_earlier_state_is_caught_by_the_kept_head()
    {
        var key = NewKey("signing", out var publicKey);
        await Append(Sealed(LedgerPath, key), 1, 5);
        var ledgerBackup = File.ReadAllBytes(LedgerPath);
        var checkpointBackup = File.ReadAllBytes(CheckpointPath);
        await Append(Sealed(LedgerPath, key), 6, 8);
        var kept = Verify(publicKey).SealedHead!;
        File.WriteAllBytes(LedgerPath, ledgerBackup);
        File.WriteAllBytes(CheckpointPath, checkpointBackup);

        Assert.True(Verify(publicKey).Valid); // consistent with itself...
        AssertProblem(VerifyKept(kept, publicKey), "rolled_back", null); // ...but not with the head an auditor kept
        await Append(Sealed(LedgerPath, key), 6, 8);
        Assert.True(VerifyKept(Verify(publicKey).SealedHead!, publicKey).Valid);
    }

    [Fact]
    public async Task After_a_key_rotation_old_checkpoints_verify_with_the_old_key_and_both_keys_are_needed()
    {
        var oldKey = NewKey("old", out var oldPublic);
        var newKey = NewKey("new", out var newPublic);
        await Append(Sealed(LedgerPath, oldKey), 1, 3);
        await Append(Sealed(LedgerPath, newKey), 4, 6);

        var both = Verify(oldPublic, newPublic);

        Assert.True(both.Valid, both.Message);
        Assert.True(both.CheckpointVerified);
        AssertProblem(Verify(newPublic), "signature_invalid", 1);
    }

    [Fact]
    public async Task Bad_keys_and_checkpoint_files_fail_with_their_ErrorIds_and_change_nothing()
    {
        var key = NewKey("signing", out var publicKey);
        NewKey("other", out var otherPublic);
        await Append(Sealed(LedgerPath, key), 1, 3);
        var before = (File.ReadAllBytes(LedgerPath), File.ReadAllBytes(CheckpointPath));
        var notPem = temp.WriteText("not-a-key.pem", "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n");
        using var rsa = RSA.Create(2048);
        var rsaKey = temp.WriteText("rsa.pem", rsa.ExportRSAPrivateKeyPem());

        Assert.Equal("CheckpointKeyNotFound", Assert.Throws<FlagsException>(() => CheckpointSigner.FromPemFile(temp.Combine("missing.pem"))).ErrorId);
        Assert.Equal("CheckpointKeyMalformed", Assert.Throws<FlagsException>(() => CheckpointSigner.FromPemFile(notPem)).ErrorId);
        Assert.Equal("CheckpointKeyMalformed", Assert.Throws<FlagsException>(() => CheckpointSigner.FromPemFile(rsaKey)).ErrorId);
        Assert.Equal("CheckpointKeyMalformed", Assert.Throws<FlagsException>(() => CheckpointSigner.FromPemFile(publicKey)).ErrorId); // public half cannot sign
        Assert.Equal("CheckpointKeyMismatch", Assert.Throws<FlagsException>(() => Verify(otherPublic)).ErrorId);
        Assert.Equal(before.Item1, File.ReadAllBytes(LedgerPath));
        Assert.Equal(before.Item2, File.ReadAllBytes(CheckpointPath));

        File.AppendAllText(CheckpointPath, "sequence,head_hash\n");
        var garbled = File.ReadAllBytes(CheckpointPath);
        Assert.Equal("CheckpointFileMalformed", Assert.Throws<FlagsException>(() => Verify(publicKey)).ErrorId);
        Assert.Equal("CheckpointFileMalformed", Assert.Throws<FlagsException>(() => LedgerOpening.Verify(new JsonlLedger(LedgerPath), false, null, None)).ErrorId);
        Assert.Equal(before.Item1, File.ReadAllBytes(LedgerPath));
        Assert.Equal(garbled, File.ReadAllBytes(CheckpointPath));
    }

    [Fact]
    public async Task Opening_a_tampered_ledger_refuses_with_LedgerTampered_naming_the_sequence_and_changes_nothing()
    {
        await Append(new JsonlLedger(LedgerPath), 1, 10);
        var lines = Events.Lines(LedgerPath);
        lines[6] = lines[6].Replace("reason-7", "reason-X");
        Events.WriteLines(LedgerPath, lines);
        var before = File.ReadAllBytes(LedgerPath);

        var refusal = Assert.Throws<LedgerException>(() => LedgerOpening.Verify(new JsonlLedger(LedgerPath), false, null, None));

        Assert.Equal("LedgerTampered", refusal.ErrorId);
        Assert.Contains("#7", refusal.Message);
        Assert.Equal(before, File.ReadAllBytes(LedgerPath));
        Assert.False(File.Exists(CheckpointPath));
    }

    [Fact]
    public async Task Opening_a_torn_ledger_refuses_with_LedgerTornTail_and_skipping_is_recorded_in_the_next_event()
    {
        await Append(new JsonlLedger(LedgerPath), 1, 3);
        var lines = Events.Lines(LedgerPath);
        lines[1] = lines[1].Replace("reason-2", "reason-Y");
        Events.WriteLines(LedgerPath, lines);

        var ledger = new JsonlLedger(LedgerPath);
        var verdict = LedgerOpening.Verify(ledger, skip: true, null, None);
        await ledger.AppendAsync(Events.Toggled(4), None);
        await ledger.AppendAsync(Events.Toggled(5), None);

        Assert.Equal("modified", verdict.Problem);
        var written = new JsonlLedger(LedgerPath).Read(AuditQuery.All, None).ToArray();
        Assert.Contains("modified at #2", (string?)JObject.Parse(written[3].Details!)["verification_skipped"]);
        Assert.Null(written[4].Details);

        File.WriteAllText(temp.Combine("torn.jsonl"), string.Join("\n", Events.Lines(LedgerPath).Take(1)) + "\n{\"timestamp\":\"2025");
        var before = File.ReadAllBytes(temp.Combine("torn.jsonl"));
        var torn = Assert.Throws<LedgerException>(() => LedgerOpening.Verify(new JsonlLedger(temp.Combine("torn.jsonl")), false, null, None));
        Assert.Equal("LedgerTornTail", torn.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(temp.Combine("torn.jsonl")));
    }

    [Fact]
    public async Task Opening_after_a_checkpoint_hashes_only_the_unsealed_tail_and_still_catches_a_change_there()
    {
        var key = NewKey("signing", out _);
        await Append(Sealed(LedgerPath, key), 1, 5);
        await Append(new JsonlLedger(LedgerPath), 6, 9);

        var clean = LedgerOpening.VerifySinceLastCheckpoint(new JsonlLedger(LedgerPath), null, None);
        Assert.True(clean.Valid, clean.Message);
        Assert.Equal(4, clean.Count); // lines read: only those after the seal
        Assert.Equal(4, clean.UnsealedCount);

        var lines = Events.Lines(LedgerPath);
        lines[7] = lines[7].Replace("reason-8", "reason-Z");
        Events.WriteLines(LedgerPath, lines);
        var tampered = LedgerOpening.VerifySinceLastCheckpoint(new JsonlLedger(LedgerPath), null, None);
        Assert.Equal("modified", tampered.Problem);
        Assert.Equal(8, tampered.FirstBrokenSequence);

        lines = Events.Lines(LedgerPath);
        Events.WriteLines(LedgerPath, lines.Take(3));
        Assert.Equal("truncated", LedgerOpening.VerifySinceLastCheckpoint(new JsonlLedger(LedgerPath), null, None).Problem);
    }

    [Fact]
    public async Task Repair_moves_only_the_torn_tail_to_quarantine_and_records_it_with_the_bytes_hash()
    {
        await Append(new JsonlLedger(LedgerPath), 1, 4);
        var complete = File.ReadAllBytes(LedgerPath);
        var tail = new System.Text.UTF8Encoding(false).GetBytes("{\"timestamp\":\"2025-03-01T10:05:00Z\",\"event_ty");
        File.WriteAllBytes(LedgerPath, complete.Concat(tail).ToArray());
        var ledger = new JsonlLedger(LedgerPath);
        Assert.Equal("torn_tail", ledger.Verify(None).Problem);
        Assert.Equal(5, ledger.Verify(None).FirstBrokenSequence);

        var result = await LedgerRepair.RepairAsync(ledger, new AuditTrail(ledger, new AuditSpool(temp.Combine("spool")), new CapturingLog()), "auditor", "crash on host-3", None);

        Assert.Equal(tail, File.ReadAllBytes(result.QuarantinePath));
        Assert.Equal(Path.GetDirectoryName(LedgerPath), Path.GetDirectoryName(result.QuarantinePath));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(tail)).ToLowerInvariant(), result.QuarantinedSha256);
        Assert.Equal(complete, File.ReadAllBytes(LedgerPath).Take(complete.Length).ToArray()); // every complete event byte-identical
        var repaired = Assert.Single(new JsonlLedger(LedgerPath).Read(new AuditQuery { EventTypes = new[] { LedgerEventTypes.Repaired } }, None));
        Assert.Equal(5, repaired.Sequence);
        Assert.Equal(result.QuarantinedSha256, (string?)JObject.Parse(repaired.Details!)["quarantined_sha256"]);
        Assert.True(new JsonlLedger(LedgerPath).Verify(None).Valid);
    }

    [Fact]
    public async Task Repair_refuses_a_ledger_that_is_not_torn_and_changes_nothing()
    {
        await Append(new JsonlLedger(LedgerPath), 1, 4);
        var valid = File.ReadAllBytes(LedgerPath);
        Assert.Equal("LedgerNotTorn", Assert.Throws<FlagsException>(() => LedgerRepair.Inspect(new JsonlLedger(LedgerPath), None)).ErrorId);

        var lines = Events.Lines(LedgerPath);
        lines[1] = lines[1].Replace("reason-2", "reason-Q");
        File.WriteAllText(LedgerPath, string.Join("\n", lines)); // modified AND without a final newline
        var broken = File.ReadAllBytes(LedgerPath);
        var refusal = Assert.Throws<FlagsException>(() => LedgerRepair.Inspect(new JsonlLedger(LedgerPath), None));

        Assert.Equal("LedgerNotTorn", refusal.ErrorId);
        Assert.Contains("modified", refusal.Message);
        Assert.Equal(broken, File.ReadAllBytes(LedgerPath));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.quarantine"));
        Assert.NotEqual(valid, broken);
    }

    [Fact]
    public async Task Ledger_spool_and_checkpoint_files_are_private_to_their_owner()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var key = NewKey("signing", out _);
        var ledger = Sealed(temp.Combine("new-state", "audit.jsonl"), key);
        await Append(ledger, 1, 1);
        var spool = new AuditSpool(temp.Combine("new-state", "spool"));
        var spooled = spool.Spool(ledger, Events.Toggled(2));

        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(ledger.Path));
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(ledger.Path + JsonlCheckpointStore.DefaultSuffix));
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(spooled));
        Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(spool.Directory));
        Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(temp.Combine("new-state")));
    }

    [Fact]
    public async Task A_signer_never_shows_its_private_key()
    {
        var key = NewKey("signing", out _);
        using var signer = CheckpointSigner.FromPemFile(key);
        var privateText = await File.ReadAllTextAsync(key);
        var body = privateText.Split('\n')[1];

        Assert.DoesNotContain(body, signer.ToString());
        Assert.Equal(64, signer.Fingerprint.Length);
    }
}
