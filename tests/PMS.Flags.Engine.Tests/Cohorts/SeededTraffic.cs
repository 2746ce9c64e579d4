namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>
/// Seeded synthetic request counts for the sequential test: per poll interval, requests split into the exposed and the
/// unexposed cohort, each request failing with its cohort's rate. Binomial draws by inversion (exact; the means here
/// are small), so a seed gives the same traffic on every machine.
/// </summary>
internal sealed class SeededTraffic
{
    private readonly Random random;

    public SeededTraffic(int seed) => random = new Random(seed);

    public int Binomial(int n, double p)
    {
        if (n <= 0 || p <= 0)
        {
            return 0;
        }

        if (p > 0.5)
        {
            return n - Binomial(n, 1 - p);
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

    /// <summary>One interval's counts: (treatment requests, treatment bad, control requests, control bad).</summary>
    public (int NT, int BT, int NC, int BC) Interval(int requests, double exposure, double treatmentRate, double controlRate)
    {
        var nT = Binomial(requests, exposure);
        var nC = requests - nT;
        return (nT, Binomial(nT, treatmentRate), nC, Binomial(nC, controlRate));
    }
}
