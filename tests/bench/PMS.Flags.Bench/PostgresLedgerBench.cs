using System.Diagnostics;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Bench;

/// <summary>
/// The PostgreSQL ledger at scale: fills a fresh schema with N chained events spread over a year (500 flags, one
/// rollout's events among them), then prints the sustained append rate (1 and 8 writers, one event per append), the
/// chain verification rate over the whole ledger, a rollout fold and the -Flag/-Since query at the engine level.
/// Prints figures only; 6-PostgresLedger.Bench.ps1 adds Get-FlagAudit and plain psql beside them.
/// </summary>
public static class PostgresLedgerBench
{
    public static async Task RunAsync(string[] args)
    {
        var connectionString = args[0];
        var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        var schema = args.Length > 2 ? args[2] : "pms_flags";
        var ledger = await PostgresLedger.OpenAsync(DatabaseTarget.Parse(connectionString), schema, CancellationToken.None);
        if (args.Length > 3 && args[3] == "verify-only")
        {
            // Re-measures verification on a ledger an earlier run filled, without paying for the fill again.
            await VerifyRate(ledger, connectionString);
            return;
        }

        var fill = Stopwatch.StartNew();
        var start = DateTimeOffset.UtcNow.AddDays(-365);
        const int batch = 5000;
        for (var i = 0; i < count; i += batch)
        {
            var drafts = Enumerable.Range(i, Math.Min(batch, count - i)).Select(n => Draft(n, start.AddSeconds(n * (365.0 * 86400 / count)))).ToArray();
            await ledger.AppendAsync(drafts, null, false, CancellationToken.None);
        }

        Console.WriteLine($"filled {count:N0} events in {fill.Elapsed.TotalSeconds:N1} s (batches of {batch}: {count / fill.Elapsed.TotalSeconds:N0} events/s)");

        // Sustained appends, one event per append as a command records it.
        var one = await AppendRate(ledger, 1, 1000);
        var eight = await AppendRate(ledger, 8, 250);
        Console.WriteLine($"sustained appends (one event each): 1 writer {one:N0} events/s; 8 writers {eight:N0} events/s in total");

        await VerifyRate(ledger, connectionString);

        // A rollout among the million: started and stepped through the real engine, then folded by fresh engines.
        var directory = Directory.CreateTempSubdirectory("pms-flags-bench-pg-");
        try
        {
            var flagFile = Path.Combine(directory.FullName, "feature_flags.json");
            File.WriteAllText(flagFile, "{ \"production\": { \"bench_rollout\": false } }");
            var store = new LocalFileFlagStore(flagFile);
            var trail = new AuditTrail(ledger, new AuditSpool(Path.Combine(directory.FullName, "spool")), NullOperationLog.Instance);
            using var guardrails = new GuardrailFactory();
            var plan = new RolloutPlan
            {
                RolloutId = RolloutPlan.NewRolloutId(),
                Flag = "bench_rollout",
                Environment = "production",
                Stages = RolloutPlan.StagesFrom(new double[] { 5, 25, 50, 100 }),
                BakeTime = TimeSpan.Zero,
                Guardrails = Array.Empty<GuardrailDefinition>(),
                Reason = "bench",
                ApprovalTicket = "TICKET-1",
                User = "bench",
            };
            await new RolloutEngine(store, trail, guardrails).StartAsync(plan, CancellationToken.None);
            await new RolloutEngine(store, trail, guardrails).StepAsync(plan.RolloutId, "bench", CancellationToken.None);
            var foldTimes = new List<double>();
            RolloutState? folded = null;
            for (var run = 0; run < 21; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                folded = await new RolloutEngine(store, trail, guardrails).GetAsync(plan.RolloutId, CancellationToken.None);
                foldTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"rollout fold: {folded!.EventCount} events of one rollout among {count:N0}, status {folded.Status} at stage {folded.StageNumber}: median {Median(foldTimes):N1} ms over 21 folds (goal <= 10 ms)");
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var query = new AuditQuery { Flag = "flag_7", Since = DateTimeOffset.UtcNow.AddDays(-30) };
        var queryTimes = new List<double>();
        var rows = 0;
        for (var run = 0; run < 21; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            rows = (await ledger.ReadListAsync(query, CancellationToken.None)).Count;
            queryTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine($"engine read -Flag flag_7 -Since (30 days ago): {rows} events, median {Median(queryTimes):N1} ms over 21 runs");
    }

    private static async Task VerifyRate(PostgresLedger ledger, string connectionString)
    {
        // Baseline in the same run: the same rows through the same binary COPY, only read, not verified.
        var readTimes = new List<double>();
        long read = 0;
        for (var run = 0; run < 3; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            using (var copy = connection.BeginRawBinaryCopy($"COPY (SELECT line FROM {ledger.Schema}.events ORDER BY sequence) TO STDOUT (FORMAT binary)"))
            {
                var lines = new PostgresCopyLines(copy);
                var batch = new Utf8LineBatch(4096, 4 << 20);
                read = 0;
                bool more;
                do
                {
                    batch.Clear();
                    more = lines.Fill(batch, CancellationToken.None);
                    read += batch.Count;
                }
                while (more);
            }

            readTimes.Add(stopwatch.Elapsed.TotalSeconds);
        }


        var verifyTimes = new List<double>();
        ChainVerification? verdict = null;
        for (var run = 0; run < 3; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            verdict = await ledger.VerifyAsync(CancellationToken.None);
            verifyTimes.Add(stopwatch.Elapsed.TotalSeconds);
        }

        var verifySeconds = Median(verifyTimes);
        var readSeconds = Median(readTimes);
        var (sealedOpen, wholeOpen) = await OpenTimes(ledger, verdict!);
        Console.WriteLine($"chain verification from PostgreSQL: {verdict!.Count:N0} events, valid={verdict.Valid}, median {verifySeconds * 1000:N0} ms => {verdict.Count / verifySeconds:N0} events/s (goal >= 200,000/s); reading the same {read:N0} rows alone (binary COPY, no verification): median {readSeconds * 1000:N0} ms; ratio {verifySeconds / readSeconds:N2}x");
        Console.WriteLine($"verification on open (Connect-FlagLedger), 100 events after the last seal: median {sealedOpen:N1} ms; with no checkpoint (the whole chain): median {wholeOpen:N0} ms");
    }

    /// <summary>Opening without a checkpoint reads the whole chain; sealing the head, then appending 100, leaves 100 to read.</summary>
    private static async Task<(double Sealed, double Whole)> OpenTimes(PostgresLedger ledger, ChainVerification whole)
    {
        var wholeTimes = new List<double>();
        if (ledger.Checkpoints.ReadLast() is null)
        {
            for (var run = 0; run < 3; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                PMS.Flags.Engine.Ledger.Checkpoints.LedgerOpening.VerifyPostgres(ledger, skip: false, null, CancellationToken.None);
                wholeTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }

        using var signer = new PMS.Flags.Engine.Ledger.Checkpoints.CheckpointSigner(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256));
        new PMS.Flags.Engine.Ledger.Checkpoints.CheckpointSealer(signer, ledger.Checkpoints).Seal(whole.HeadSequence ?? whole.Count, whole.HeadHash!, null, DateTimeOffset.UtcNow);
        await ledger.AppendAsync(Enumerable.Range(0, 100).Select(n => Draft(n, DateTimeOffset.UtcNow)).ToArray(), null, false, CancellationToken.None);
        using var keys = signer.PublicKeyRing();
        var sealedTimes = new List<double>();
        for (var run = 0; run < 21; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            var opened = PMS.Flags.Engine.Ledger.Checkpoints.LedgerOpening.VerifyPostgres(ledger, skip: false, keys, CancellationToken.None);
            sealedTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            if (opened.Count != 100)
            {
                throw new InvalidOperationException($"Opening read {opened.Count} events after the seal, not 100.");
            }
        }

        return (Median(sealedTimes), wholeTimes.Count > 0 ? Median(wholeTimes) : double.NaN);
    }

    private static AuditEvent Draft(int n, DateTimeOffset at) => new()
    {
        Timestamp = at,
        EventType = n % 10 == 0 ? "guardrail_evaluated" : "feature_flag_toggled",
        UserId = $"agent{n % 8}@pms.example.com",
        FeatureFlag = $"flag_{n % 500}",
        PreviousState = n % 2 == 0,
        NewState = n % 2 == 1,
        Environment = n % 3 == 0 ? "production" : "staging",
        Reason = "Gradual rollout - benchmark",
        RolloutPercentage = n % 101,
        ApprovalTicket = "TICKET-12345",
        Store = "localfile:apps/backend/config/feature_flags.json",
        PreviousPercentage = (n + 50) % 101,
        Outcome = "applied",
        RolloutId = n % 1000 == 0 ? $"bench-{n % 7}" : null,
        Details = "{\"change\":\"SetPercentage\",\"requested_percentage\":25}",
    };

    private static async Task<double> AppendRate(PostgresLedger ledger, int writers, int perWriter)
    {
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                await ledger.AppendAsync(Draft(i, DateTimeOffset.UtcNow), CancellationToken.None);
            }
        })));
        return writers * perWriter / stopwatch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
