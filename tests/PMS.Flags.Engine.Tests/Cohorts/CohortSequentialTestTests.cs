using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>The statistic on known counts, its interval, and its false-alarm rate under repeated looks on seeded A/A traffic.</summary>
public sealed class CohortSequentialTestTests
{
    private const double Delta = 0.5;
    private const double Alpha = 0.05;

    [Fact]
    public void No_bad_requests_at_all_is_a_statistic_of_zero_and_no_conclusion()
    {
        var e = CohortSequentialTest.Evaluate(1000, 0, 19000, 0, Delta, Alpha);

        Assert.Equal(0, e.Statistic);
        Assert.False(e.Concluded);
        Assert.Equal(0, e.Estimate);
        Assert.Equal(0.05, e.Share, 12);
        Assert.Equal(-1, e.Lower);
        Assert.True(e.Upper > 0, "with no bad request at all the interval cannot rule out a regression");
        Assert.Equal(Math.Log(20), e.Threshold, 12);
    }

    [Fact]
    public void Equal_rates_give_negative_evidence_against_a_regression()
    {
        var e = CohortSequentialTest.Evaluate(1000, 10, 19000, 190, Delta, Alpha);

        // 10·ln(p1/s) + 190·ln((1-p1)/(1-s)) with s = 0.05, p1 = 0.075/1.025, worked out by hand (Python).
        Assert.Equal(-0.8838714369926572, e.Statistic, 10);
        Assert.False(e.Concluded);
        Assert.Equal(0.01, e.TreatmentRate, 12);
        Assert.Equal(0.01, e.ControlRate, 12);
        Assert.Equal(0, e.Estimate, 12);
        Assert.InRange(0, e.Lower, e.Upper);
    }

    [Fact]
    public void Twice_the_control_rate_on_enough_requests_concludes_and_the_interval_excludes_no_difference()
    {
        var e = CohortSequentialTest.Evaluate(5000, 50, 95000, 475, Delta, Alpha);

        Assert.Equal(7.309633795463187, e.Statistic, 10);
        Assert.True(e.Concluded);
        Assert.Equal(1, e.Estimate, 10);
        Assert.True(e.Lower > 0, $"lower bound {e.Lower}");
        Assert.InRange(1, e.Lower, e.Upper);
        Assert.Contains("+100% [", e.Summary);
        Assert.Contains("LLR 7.31 of 3.00", e.Summary);
    }

    [Fact]
    public void Tiny_samples_are_defined_and_conclude_nothing()
    {
        var e = CohortSequentialTest.Evaluate(1, 1, 1, 0, Delta, Alpha);

        Assert.Equal(0.1823215567939546, e.Statistic, 12);
        Assert.False(e.Concluded);
        Assert.True(double.IsPositiveInfinity(e.Estimate), "control has no bad request, so the ratio is unbounded");
        Assert.True(e.Lower < -0.9, $"one bad request says almost nothing; lower bound {e.Lower}");
        Assert.True(double.IsPositiveInfinity(e.Upper));
    }

    [Fact]
    public void A_cohort_without_requests_has_no_statistic()
    {
        var e = CohortSequentialTest.Evaluate(0, 0, 19000, 190, Delta, Alpha);

        Assert.True(double.IsNaN(e.Statistic));
        Assert.False(e.Concluded);
        Assert.True(double.IsNaN(e.TreatmentRate));
    }

    [Fact]
    public void Inconsistent_counts_are_clamped_not_trusted()
    {
        // increase() extrapolates, and "count - le=2 bucket" can dip below zero: neither may invent evidence.
        var e = CohortSequentialTest.Evaluate(100, 250, 1900, -3, Delta, Alpha);

        Assert.Equal(100, e.TreatmentBad);
        Assert.Equal(0, e.ControlBad);
        Assert.Equal(1, e.TreatmentRate);
    }

    [Fact]
    public void A_larger_tuned_regression_needs_less_evidence_for_a_large_effect()
    {
        var tunedSmall = CohortSequentialTest.Evaluate(2000, 40, 38000, 190, 0.5, Alpha);
        var tunedLarge = CohortSequentialTest.Evaluate(2000, 40, 38000, 190, 2.0, Alpha);

        Assert.Equal(10.539303428541139, tunedSmall.Statistic, 10);
        Assert.True(tunedLarge.Statistic > tunedSmall.Statistic, "a fourfold rate is closer to +200% than to +50%");
    }

    [Fact]
    public void LogGamma_matches_factorials_and_half_integers()
    {
        Assert.Equal(Math.Log(362880), CohortSequentialTest.LogGamma(10), 10);
        Assert.Equal(0, CohortSequentialTest.LogGamma(1), 12);
        Assert.Equal(Math.Log(Math.Sqrt(Math.PI)), CohortSequentialTest.LogGamma(0.5), 10);
        Assert.Equal(Math.Log(120), CohortSequentialTest.LogGamma(6), 10);
    }

    [Fact]
    public void The_relative_regression_and_the_conditional_share_are_inverse()
    {
        foreach (var share in new[] { 0.01, 0.05, 0.25, 0.5 })
        {
            foreach (var d in new[] { -0.5, 0, 0.5, 1, 3 })
            {
                Assert.Equal(d, CohortSequentialTest.Relative(CohortSequentialTest.ConditionalShare(share, d), share), 9);
            }
        }
    }

    /// <summary>
    /// A/A: both cohorts fail 0.5 % of requests; 50 requests/s, 5 % exposure, a 30-minute stage looked at every 30 s
    /// (60 looks), 2,000 seeded stages. Breaching at ANY look is a false alarm. The SPRT stays at or under its α, while a
    /// one-sided z-test at the same α, repeated at every look, does not: that is what peeking costs a fixed-sample test.
    /// </summary>
    [Theory]
    [InlineData(0.05, 0.5, 500, 1701)]
    [InlineData(0.05, 0.5, 1, 1702)]
    [InlineData(0.01, 0.5, 500, 1703)]
    [InlineData(0.05, 0.2, 500, 1704)]
    [InlineData(0.10, 1.0, 100, 1705)]
    public void The_false_alarm_rate_under_repeated_looks_stays_at_or_under_its_setting(double alpha, double delta, long minimumSamples, int seed)
    {
        const int Stages = 2000;
        var traffic = new SeededTraffic(seed);
        var sprtAlarms = 0;
        var peekingAlarms = 0;
        var z = alpha switch { 0.01 => 2.3263, 0.05 => 1.6449, _ => 1.2816 };
        for (var stage = 0; stage < Stages; stage++)
        {
            double nT = 0, bT = 0, nC = 0, bC = 0;
            bool sprt = false, peeking = false;
            for (var look = 0; look < 60; look++)
            {
                var (dnT, dbT, dnC, dbC) = traffic.Interval(1500, 0.05, 0.005, 0.005);
                nT += dnT; bT += dbT; nC += dnC; bC += dbC;
                if (nT < minimumSamples || nC < minimumSamples)
                {
                    continue;
                }

                sprt |= CohortSequentialTest.Evaluate(nT, bT, nC, bC, delta, alpha).Concluded;
                var pooled = (bT + bC) / (nT + nC);
                var se = Math.Sqrt(pooled * (1 - pooled) * (1 / nT + 1 / nC));
                peeking |= se > 0 && (bT / nT - bC / nC) / se > z;
            }

            sprtAlarms += sprt ? 1 : 0;
            peekingAlarms += peeking ? 1 : 0;
        }

        var sprtRate = sprtAlarms / (double)Stages;
        var peekingRate = peekingAlarms / (double)Stages;
        Assert.True(sprtRate <= alpha, $"SPRT false-alarm rate {sprtRate:P2} over {Stages} A/A stages exceeds α = {alpha:P0}");
        Assert.True(peekingRate > alpha, $"the peeking z-test's rate {peekingRate:P2} should exceed α = {alpha:P0}; otherwise this traffic proves nothing");
    }

    [Fact]
    public void The_interval_covers_the_true_regression_at_every_look_in_nearly_every_stage()
    {
        // Time-uniform coverage: the true +100% must lie inside the interval at all 60 looks in at least 1 - α of the stages.
        const int Stages = 500;
        var traffic = new SeededTraffic(1717);
        var missed = 0;
        for (var stage = 0; stage < Stages; stage++)
        {
            double nT = 0, bT = 0, nC = 0, bC = 0;
            var covered = true;
            for (var look = 0; look < 60; look++)
            {
                var (dnT, dbT, dnC, dbC) = traffic.Interval(1500, 0.05, 0.01, 0.005);
                nT += dnT; bT += dbT; nC += dnC; bC += dbC;
                var e = CohortSequentialTest.Evaluate(nT, bT, nC, bC, Delta, Alpha);

                // The interval is for the odds of "bad from treatment" against the realised share, which is the
                // rate ratio the traffic was drawn with.
                covered &= e.Lower <= 1 && 1 <= e.Upper;
            }

            missed += covered ? 0 : 1;
        }

        Assert.True(missed / (double)Stages <= Alpha, $"{missed} of {Stages} stages left the true value outside the interval at some look");
    }
}
