using System.Globalization;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Bench;

/// <summary>
/// How well the cohort guardrail and the playbook's threshold alert see a regression confined to the exposed cohort.
/// Synthetic traffic (seeded, no Prometheus): Poisson requests at 50/s, each exposed with probability 5 %, each failing
/// with its cohort's rate (0.5 % baseline). A 30-minute first stage polled every 30 s (60 looks), preceded by 5 minutes
/// at 0 % so the alerts' 5-minute windows are full when the stage starts.
/// The cohort guardrail is the engine's own <see cref="CohortSequentialTest"/> on the counts since the stage started,
/// with the defaults (+50 %, α = 5 %, 500 requests per cohort). Beside it, on the same traffic:
/// - the playbook's HighErrorRate exactly: rate(http_requests_total{status=~"5.."}[5m]) &gt; 0.05 for 2m, per series
///   (one series per variant and status, as the labelled metrics give);
/// - the same alert on unlabelled metrics (one global 5xx series);
/// - the playbook's threshold read as an error RATIO (5xx / all over 5m &gt; 5 % for 2m), globally and on the exposed cohort.
/// A rollout counts as rolled back at the first poll where a guardrail breaches.
/// </summary>
public static class CohortPowerSimulation
{
    private const double RequestsPerSecond = 50;
    private const double Exposure = 0.05;
    private const double Baseline = 0.005;
    private const int StageSeconds = 1800;
    private const int PollSeconds = 30;
    private const int WarmupSeconds = 300;
    private const int WindowSeconds = 300;
    private const int ForSeconds = 120;

    public static void Run(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20261203;
        Console.WriteLine($"cohort power simulation: {runs:N0} rollouts per scenario, seed {seed}; {RequestsPerSecond} requests/s, {Exposure:P0} exposure, {Baseline:P1} baseline errors, {StageSeconds / 60}-minute stage polled every {PollSeconds} s");
        Console.WriteLine("guardrail                                   scenario      rolled back   median detect   p90 detect");
        foreach (var (name, factor) in new[] { ("A/A", 1.0), ("2x", 2.0), ("1.5x", 1.5), ("3x", 3.0) })
        {
            var outcome = Simulate(runs, seed + (int)(factor * 1000), Baseline * factor);
            foreach (var (guardrail, times) in outcome)
            {
                var detected = times.Where(t => t is not null).Select(t => t!.Value).Order().ToArray();
                var rate = detected.Length / (double)runs;
                var median = detected.Length == 0 ? "-" : Minutes(detected[detected.Length / 2]);
                var p90 = detected.Length == 0 ? "-" : Minutes(detected[(int)(detected.Length * 0.9)]);
                Console.WriteLine($"{guardrail,-43} {name,-12} {rate,8:P1}      {median,10}      {p90,10}");
            }
        }

        Console.WriteLine("(rolled back: share of rollouts with a breach within the stage; detect: time from stage start to the first breaching poll, among those)");
        Console.WriteLine($"(the playbook's HighErrorRate is 5xx per SECOND: {RequestsPerSecond * Baseline:0.###}/s at this traffic with no fault at all, above its 0.05/s, so it fires once its 2m have passed whatever the feature does)");
    }

    private static string Minutes(int seconds) => $"{seconds / 60}m{seconds % 60:00}s";

    private static List<(string Guardrail, List<int?> Times)> Simulate(int runs, int seed, double treatmentRate)
    {
        var random = new Random(seed);
        var names = new[]
        {
            "cohort SPRT (+50%, alpha 5%, min 500)",
            "playbook HighErrorRate, labelled series",
            "playbook HighErrorRate, unlabelled",
            "5xx ratio > 5% for 2m, global",
            "5xx ratio > 5% for 2m, exposed cohort",
        };
        var results = names.Select(n => (n, new List<int?>())).ToList();
        var intervals = (WarmupSeconds + StageSeconds) / PollSeconds;
        var warmupIntervals = WarmupSeconds / PollSeconds;
        var windowIntervals = WindowSeconds / PollSeconds;
        for (var run = 0; run < runs; run++)
        {
            // Per 30-s interval: requests and 5xx of each cohort.
            var nT = new double[intervals];
            var bT = new double[intervals];
            var nC = new double[intervals];
            var bC = new double[intervals];
            for (var i = 0; i < intervals; i++)
            {
                var exposure = i < warmupIntervals ? 0 : Exposure;
                var requests = Poisson(random, RequestsPerSecond * PollSeconds);
                var exposed = Binomial(random, requests, exposure);
                nT[i] = exposed;
                nC[i] = requests - exposed;
                bT[i] = Binomial(random, exposed, treatmentRate);
                bC[i] = Binomial(random, requests - exposed, Baseline);
            }

            int? sprt = null;
            var alerts = new AlertState[4];
            var fired = new int?[4];
            double cT = 0, cBT = 0, cC = 0, cBC = 0;
            for (var i = warmupIntervals; i < intervals; i++)
            {
                var t = (i - warmupIntervals + 1) * PollSeconds;
                cT += nT[i]; cBT += bT[i]; cC += nC[i]; cBC += bC[i];
                if (sprt is null && cT >= 500 && cC >= 500 && CohortSequentialTest.Evaluate(cT, cBT, cC, cBC, 0.5, 0.05).Concluded)
                {
                    sprt = t;
                }

                // The alerts' 5-minute windows: the last ten intervals.
                double wT = 0, wBT = 0, wC = 0, wBC = 0;
                for (var j = i - windowIntervals + 1; j <= i; j++)
                {
                    wT += nT[j]; wBT += bT[j]; wC += nC[j]; wBC += bC[j];
                }

                var conditions = new[]
                {
                    wBT / WindowSeconds > 0.05 || wBC / WindowSeconds > 0.05,
                    (wBT + wBC) / WindowSeconds > 0.05,
                    (wBT + wBC) / Math.Max(1, wT + wC) > 0.05,
                    wT > 0 && wBT / wT > 0.05,
                };
                for (var a = 0; a < alerts.Length; a++)
                {
                    alerts[a] = alerts[a].Next(conditions[a], t);
                    if (fired[a] is null && alerts[a].Firing(t))
                    {
                        fired[a] = t;
                    }
                }
            }

            results[0].Item2.Add(sprt);
            for (var a = 0; a < alerts.Length; a++)
            {
                results[a + 1].Item2.Add(fired[a]);
            }
        }

        return results;
    }

    // Prometheus' "for": the condition must hold at every evaluation from its first sighting for ForSeconds. Evaluated
    // from the stage's first poll (the warm-up only fills the 5-minute windows), as a rollout's guardrail would be.
    private readonly record struct AlertState(int? ActiveSince)
    {
        public AlertState Next(bool condition, int t) => condition ? new AlertState(ActiveSince ?? t) : new AlertState(null);

        public bool Firing(int t) => ActiveSince is { } since && t - since >= ForSeconds;
    }

    private static int Poisson(Random random, double mean)
    {
        // Sum of Poisson(50) draws by inversion (each exact; e^-50 is well within double range).
        var total = 0;
        for (var remaining = mean; remaining > 0; remaining -= 50)
        {
            var m = Math.Min(50, remaining);
            var u = random.NextDouble();
            var p = Math.Exp(-m);
            var cdf = p;
            var k = 0;
            while (u > cdf)
            {
                k++;
                p *= m / k;
                cdf += p;
            }

            total += k;
        }

        return total;
    }

    private static int Binomial(Random random, int n, double p)
    {
        if (n <= 0 || p <= 0)
        {
            return 0;
        }

        if (p > 0.5)
        {
            return n - Binomial(random, n, 1 - p);
        }

        var u = random.NextDouble();
        var pmf = Math.Pow(1 - p, n);
        var cdf = pmf;
        var k = 0;
        var ratio = p / (1 - p);
        while (u > cdf && k < n)
        {
            pmf *= (n - k) / (double)(k + 1) * ratio;
            k++;
            cdf += pmf;
        }

        return k;
    }
}
