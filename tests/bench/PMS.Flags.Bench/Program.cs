using System.Diagnostics;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

// `cohort-power`: the cohort guardrail's power simulation (CohortPowerSimulation.cs) instead of the ledger benchmarks.
if (args.FirstOrDefault() == "cohort-power")
{
    PMS.Flags.Bench.CohortPowerSimulation.Run(args[1..]);
    return;
}

// `checkpoints`: chain + checkpoint verification and connect-time verification (CheckpointBench.cs).
if (args.FirstOrDefault() == "checkpoints")
{
    PMS.Flags.Bench.CheckpointBench.Run(args[1..]);
    return;
}

// `postgres-ledger <connection string> [events] [schema]`: the PostgreSQL ledger at scale (PostgresLedgerBench.cs).
if (args.FirstOrDefault() == "postgres-ledger")
{
    await PMS.Flags.Bench.PostgresLedgerBench.RunAsync(args[1..]);
    return;
}

// `generate-jsonl <path> <count>`: only write a valid, chained JSONL ledger of generated events (the export bench's input).
if (args.FirstOrDefault() == "generate-jsonl")
{
    WriteLedger(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// Chain verification throughput: 100,000 generated, correctly chained events, verified three times; the median counts.
// Baseline in the same run: reading the same file line by line without verifying, so the ratio shows what verification adds.
var count = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var directory = Directory.CreateTempSubdirectory("pms-flags-bench-");
try
{
    var path = Path.Combine(directory.FullName, "audit.jsonl");
    WriteLedger(path, count);

    var ledger = new JsonlLedger(path);
    var verifyTimes = new List<double>();
    var readTimes = new List<double>();
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
        verdict = ledger.Verify(CancellationToken.None);
        verifyTimes.Add(stopwatch.Elapsed.TotalSeconds);
    }

    var verifySeconds = Median(verifyTimes);
    var readSeconds = Median(readTimes);
    Console.WriteLine($"chain verification: {count:N0} events, valid={verdict!.Valid}, median {verifySeconds * 1000:N0} ms => {count / verifySeconds:N0} events/s (goal >= 200,000/s)");
    Console.WriteLine($"baseline (read lines only): median {readSeconds * 1000:N0} ms; verification / baseline = {verifySeconds / readSeconds:N1}x");

    // Folding a rollout's state from a ledger that also holds the 100,000 unrelated events above: the rollout's own
    // events are appended after them, and its state is folded by a fresh engine each time, as another agent would.
    var flagFile = Path.Combine(directory.FullName, "feature_flags.json");
    File.WriteAllText(flagFile, "{ \"production\": { \"bench_rollout\": false } }");
    var store = new LocalFileFlagStore(flagFile);
    var trail = new AuditTrail(ledger, new AuditSpool(Path.Combine(directory.FullName, "spool")), NullOperationLog.Instance);
    using var guardrails = new GuardrailFactory();
    var rollouts = new RolloutEngine(store, trail, guardrails);
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
    await rollouts.StartAsync(plan, CancellationToken.None);
    await rollouts.StepAsync(plan.RolloutId, "bench", CancellationToken.None);
    var foldTimes = new List<double>();
    RolloutState? folded = null;
    for (var run = 0; run < 5; run++)
    {
        var stopwatch = Stopwatch.StartNew();
        folded = await new RolloutEngine(store, trail, guardrails).GetAsync(plan.RolloutId, CancellationToken.None);
        foldTimes.Add(stopwatch.Elapsed.TotalSeconds);
    }

    var foldSeconds = Median(foldTimes);
    Console.WriteLine($"rollout fold: {folded!.EventCount} events of one rollout among {count:N0} unrelated ones, status {folded.Status} at stage {folded.StageNumber}: median {foldSeconds * 1000:N0} ms; fold / read-lines baseline = {foldSeconds / readSeconds:N1}x");
}
finally
{
    directory.Delete(recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

// Correctly chained events over 500 flags in two environments, 10 ms apart, as the ledger writer would store them.
static void WriteLedger(string path, int count)
{
    using (var writer = new StreamWriter(path))
    {
        string? previous = null;
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        for (var i = 1; i <= count; i++)
        {
            var draft = new AuditEvent
            {
                Timestamp = start.AddMilliseconds(i * 10),
                EventType = i % 10 == 0 ? "guardrail_evaluated" : "feature_flag_toggled",
                UserId = "bench@pms.example.com",
                FeatureFlag = $"flag_{i % 500}",
                PreviousState = i % 2 == 0,
                NewState = i % 2 == 1,
                Environment = i % 3 == 0 ? "production" : "staging",
                Reason = "Gradual rollout - benchmark",
                RolloutPercentage = i % 101,
                ApprovalTicket = "TICKET-12345",
                Store = "LocalFile:/bench/feature_flags.json",
                PreviousPercentage = (i + 50) % 101,
                Outcome = "applied",
                Details = "{\"change\":\"SetPercentage\",\"requested_percentage\":25}",
            }.WithChain(i, previous, "");
            writer.WriteLine(AuditEventCodec.ToLine(draft, out var hash));
            previous = hash;
        }
    }
}
