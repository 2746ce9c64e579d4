using System.Diagnostics;
using System.Security.Cryptography;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Bench;

/// <summary>
/// Chain + checkpoint verification of a whole ledger against reading its lines (same run, ratio), and the
/// connect-time verification that hashes only the events after the last checkpoint.
/// </summary>
public static class CheckpointBench
{
    public static void Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        var unsealed = args.Length > 1 ? int.Parse(args[1]) : 1_000;
        var directory = Directory.CreateTempSubdirectory("pms-flags-bench-checkpoints-");
        try
        {
            var path = Path.Combine(directory.FullName, "audit.jsonl");
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var keyPath = Path.Combine(directory.FullName, "signing.pem");
            File.WriteAllText(keyPath, key.ExportECPrivateKeyPem());
            var publicPath = Path.Combine(directory.FullName, "signing.pub.pem");
            File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem());
            var ledger = new JsonlLedger(path);
            var sealer = new CheckpointSealer(CheckpointSigner.FromPemFile(keyPath), ledger.Checkpoints);

            var sealAt = count - unsealed;
            using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                string? previous = null;
                var start = DateTimeOffset.UtcNow.AddDays(-1);
                for (var i = 1; i <= count; i++)
                {
                    var draft = new AuditEvent
                    {
                        Timestamp = start.AddMilliseconds(i * 10),
                        EventType = "feature_flag_toggled",
                        UserId = "bench@pms.example.com",
                        FeatureFlag = $"flag_{i % 500}",
                        PreviousState = i % 2 == 0,
                        NewState = i % 2 == 1,
                        Environment = i % 3 == 0 ? "production" : "staging",
                        Reason = "Gradual rollout - benchmark",
                        RolloutPercentage = i % 101,
                        ApprovalTicket = "TICKET-12345",
                        Store = "LocalFile:/bench/feature_flags.json",
                        Outcome = "applied",
                        Details = "{\"change\":\"SetPercentage\",\"requested_percentage\":25}",
                    }.WithChain(i, previous, "");
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(AuditEventCodec.ToLine(draft, out var hash) + "\n"));
                    previous = hash;
                    if (i == sealAt)
                    {
                        stream.Flush();
                        sealer.Seal(i, hash, stream.Position, DateTimeOffset.UtcNow);
                    }
                }
            }

            using var keys = CheckpointKeyRing.FromPemFiles(new[] { publicPath });
            var readTimes = new List<double>();
            var verifyTimes = new List<double>();
            ChainVerification? verdict = null;
            for (var run = 0; run < 3; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                var lines = 0;
                foreach (var _ in File.ReadLines(path))
                {
                    lines++;
                }

                readTimes.Add(stopwatch.Elapsed.TotalSeconds);
                stopwatch.Restart();
                verdict = CheckpointVerifier.Verify(ledger, ledger.Checkpoints, keys, null, 0, CancellationToken.None);
                verifyTimes.Add(stopwatch.Elapsed.TotalSeconds);
            }

            var openTimes = new List<double>();
            ChainVerification? opened = null;
            for (var run = 0; run < 7; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                opened = LedgerOpening.VerifySinceLastCheckpoint(new JsonlLedger(path), keys, CancellationToken.None);
                openTimes.Add(stopwatch.Elapsed.TotalSeconds);
            }

            var read = Median(readTimes);
            var verify = Median(verifyTimes);
            Console.WriteLine($"chain + checkpoint verification: {count:N0} events, valid={verdict!.Valid}, checkpoint verified={verdict.CheckpointVerified}, median {verify * 1000:N0} ms => {count / verify:N0} events/s");
            Console.WriteLine($"baseline (read lines only): median {read * 1000:N0} ms; verification / baseline = {verify / read:N2}x (goal <= 2x)");
            Console.WriteLine($"connect-time verification since the last checkpoint: {count:N0} events, {opened!.UnsealedCount:N0} unsealed, valid={opened.Valid}: median {Median(openTimes) * 1000:N1} ms (goal <= 50 ms); / whole-chain verification = {Median(openTimes) / verify:P2}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
