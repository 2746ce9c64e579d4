using System.Globalization;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

// Usage:
//   flags  <document> <environment> <flagPrefix> <count> [goFile]
//     sets <flagPrefix>0 .. <flagPrefix>(count-1), flag i to percentage (i + 1) + 0.5 (distinct per flag)
//   ledger <ledger.jsonl> <userPrefix> <count> [goFile]
//     appends <count> events with user_id <userPrefix> and reason "<userPrefix>-<i>"
//   flush  <ledger.jsonl> <spoolDirectory> <rounds> [goFile]
//     flushes the spool into the ledger <rounds> times
// With goFile, prints "ready" and waits until that file exists, so two processes start writing together.
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: flags <document> <environment> <flagPrefix> <count> [goFile] | ledger <ledger> <userPrefix> <count> [goFile]");
    return 2;
}

var mode = args[0];
var goFileIndex = mode == "flags" ? 5 : 4;
if (args.Length > goFileIndex)
{
    Console.Out.WriteLine("ready");
    Console.Out.Flush();
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (!File.Exists(args[goFileIndex]))
    {
        if (DateTime.UtcNow > deadline)
        {
            Console.Error.WriteLine("timed out waiting for the go file");
            return 3;
        }

        Thread.Sleep(1);
    }
}

switch (mode)
{
    case "flags":
    {
        var store = new LocalFileFlagStore(args[1]);
        var count = int.Parse(args[4], CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            var percentage = PercentageFor(i);
            var result = await store.ApplyAsync(new FlagChange($"{args[3]}{i}", args[2], FlagChangeKind.SetPercentage, percentage), CancellationToken.None);
            if (!result.Changed || result.Current.Percentage != percentage)
            {
                Console.Error.WriteLine($"unexpected result for {args[3]}{i}: changed={result.Changed} percentage={result.Current.Percentage}");
                return 1;
            }
        }

        return 0;
    }

    case "ledger":
    {
        var ledger = new JsonlLedger(args[1]);
        var count = int.Parse(args[3], CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            await ledger.AppendAsync(
                new AuditEvent
                {
                    EventType = "feature_flag_toggled",
                    UserId = args[2],
                    FeatureFlag = "concurrent_flag",
                    Environment = "staging",
                    Reason = $"{args[2]}-{i}",
                    RolloutPercentage = i,
                }, CancellationToken.None);
        }

        return 0;
    }

    case "flush":
    {
        var ledger = new JsonlLedger(args[1]);
        var spool = new AuditSpool(args[2]);
        for (var i = 0; i < int.Parse(args[3], CultureInfo.InvariantCulture); i++)
        {
            var flush = await spool.FlushAsync(ledger, PMS.Flags.Engine.Common.NullOperationLog.Instance, CancellationToken.None);
            if (flush.LedgerFailure is not null)
            {
                Console.Error.WriteLine(flush.LedgerFailure.Message);
                return 1;
            }
        }

        return 0;
    }

    default:
        Console.Error.WriteLine($"unknown mode '{mode}'");
        return 2;
}

static decimal PercentageFor(int i) => i + 1 + 0.5m;
