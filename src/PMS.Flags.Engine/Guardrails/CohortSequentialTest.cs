namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Is the exposed cohort worse than control? Wald's sequential probability ratio test (A. Wald, "Sequential Tests of
/// Statistical Hypotheses", Ann. Math. Statist. 16(2):117-186, 1945) on the conditional binomial of the bad requests.
///
/// Given that a request is bad, it came from the treatment cohort with probability
/// p = s·(1+d) / (s·(1+d) + 1 - s), where s is the treatment's share of all requests and 1+d the ratio of the two
/// cohorts' bad rates. H0: d = 0 (p = s; any d &lt; 0 is only easier); H1: d = MinimumRelativeRegression (p = p1).
/// The statistic is the log likelihood ratio of the bad counts,
/// <c>Λ = bad_T·ln(p1/s) + bad_C·ln((1-p1)/(1-s))</c>, and the test concludes "worse" when Λ ≥ ln(1/α).
/// Only the upper boundary is used (the test never "accepts" health; it keeps watching), so under H0 the likelihood
/// ratio is a non-negative martingale with mean 1 and Ville's inequality (J. Ville, Étude critique de la notion de
/// collectif, 1939) bounds the chance that it EVER reaches 1/α by α: looking after every poll does not inflate the
/// false-alarm rate. Counting restarts with each stage, so α holds per stage.
///
/// The interval is a confidence sequence for the same p (H. Robbins, "Statistical methods related to the law of the
/// iterated logarithm", Ann. Math. Statist. 41(5), 1970): the values p0 whose mixture likelihood ratio, with a Beta
/// prior centred on s, stays below 1/α; it is valid at every look too, and is reported as the relative regression
/// (rate_T / rate_C - 1).
/// </summary>
public static class CohortSequentialTest
{
    public const string Method = "Wald SPRT on the conditional binomial of bad requests (Wald 1945), always valid by Ville's inequality; interval: Robbins' mixture confidence sequence (1970)";

    // The prior of the interval's mixture: Beta(κ·s, κ·(1-s)), mean s. Any prior fixed before the data keeps the
    // interval valid; one centred on "no difference" keeps it narrow where it matters.
    private const double PriorConcentration = 20;

    /// <summary>Judges one look. Counts may be fractional (Prometheus' increase() extrapolates); they are clamped to be consistent.</summary>
    public static CohortEvidence Evaluate(double treatmentRequests, double treatmentBad, double controlRequests, double controlBad, double minimumRelativeRegression, double falseAlarmRate)
    {
        var nT = Clean(treatmentRequests);
        var nC = Clean(controlRequests);
        var bT = Math.Min(Clean(treatmentBad), nT);
        var bC = Math.Min(Clean(controlBad), nC);
        var threshold = Math.Log(1 / falseAlarmRate);
        var rateT = nT > 0 ? bT / nT : double.NaN;
        var rateC = nC > 0 ? bC / nC : double.NaN;
        var evidence = new CohortEvidence
        {
            TreatmentRequests = nT,
            TreatmentBad = bT,
            ControlRequests = nC,
            ControlBad = bC,
            Statistic = 0,
            Threshold = threshold,
            FalseAlarmRate = falseAlarmRate,
            MinimumRelativeRegression = minimumRelativeRegression,
            Estimate = RelativeRegression(rateT, rateC),
            Lower = -1,
            Upper = double.PositiveInfinity,
        };
        if (nT <= 0 || nC <= 0)
        {
            return evidence with { Statistic = double.NaN };
        }

        var share = nT / (nT + nC);
        var p1 = ConditionalShare(share, minimumRelativeRegression);
        var statistic = (bT > 0 ? bT * Math.Log(p1 / share) : 0) + (bC > 0 ? bC * Math.Log((1 - p1) / (1 - share)) : 0);
        var (lower, upper) = Interval(bT, bT + bC, share, falseAlarmRate);
        return evidence with
        {
            Share = share,
            Statistic = statistic,
            Concluded = statistic >= threshold,
            Lower = lower is { } l ? Relative(l, share) : -1,
            Upper = upper is { } u ? Relative(u, share) : double.PositiveInfinity,
        };
    }

    /// <summary>The chance that a bad request came from the treatment when its bad rate is (1+d) times control's.</summary>
    public static double ConditionalShare(double share, double relativeRegression)
        => share * (1 + relativeRegression) / (share * (1 + relativeRegression) + 1 - share);

    /// <summary>The relative regression a conditional share p stands for: the odds ratio against the traffic share, minus 1.</summary>
    public static double Relative(double p, double share)
        => p >= 1 ? double.PositiveInfinity : p <= 0 ? -1 : p * (1 - share) / (share * (1 - p)) - 1;

    /// <summary>
    /// The confidence sequence for p after k bad requests, x of them from the treatment: the p0 with
    /// log M(p0) = log B(x+a, k-x+b) - log B(a, b) - x·ln p0 - (k-x)·ln(1-p0) &lt; ln(1/α). M is convex in p0 with its
    /// minimum at the MLE's side, so each bound is found by bisection; null means the bound is the edge (0 or 1).
    /// </summary>
    public static (double? Lower, double? Upper) Interval(double x, double k, double share, double falseAlarmRate)
    {
        if (k <= 0)
        {
            return (null, null);
        }

        var a = PriorConcentration * share;
        var b = PriorConcentration * (1 - share);
        var logMixture = LogBeta(x + a, k - x + b) - LogBeta(a, b);
        var bound = Math.Log(1 / falseAlarmRate);
        double LogRatio(double p0) => logMixture - (x > 0 ? x * Math.Log(p0) : 0) - (k - x > 0 ? (k - x) * Math.Log(1 - p0) : 0);
        var centre = Math.Clamp(x / k, 1e-12, 1 - 1e-12);
        if (LogRatio(centre) >= bound)
        {
            // Cannot happen for a sensible prior (the mixture never beats the best single p by 1/α at the MLE), but a
            // degenerate input must not produce an inverted interval.
            return (centre, centre);
        }

        double? Search(double inside, double outside)
        {
            if (LogRatio(outside) < bound)
            {
                return null;
            }

            for (var i = 0; i < 200 && Math.Abs(outside - inside) > 1e-12; i++)
            {
                var middle = (inside + outside) / 2;
                if (LogRatio(middle) < bound)
                {
                    inside = middle;
                }
                else
                {
                    outside = middle;
                }
            }

            return inside;
        }

        return (Search(centre, 1e-15), Search(centre, 1 - 1e-15));
    }

    /// <summary>ln B(a, b) by ln Γ (Lanczos, g = 7, nine coefficients: about 15 significant digits for positive arguments).</summary>
    public static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    private static readonly double[] Lanczos =
    {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    };

    private static double Clean(double count) => double.IsFinite(count) && count > 0 ? count : 0;

    private static double RelativeRegression(double rateT, double rateC)
        => double.IsNaN(rateT) || double.IsNaN(rateC) ? double.NaN
            : rateC > 0 ? rateT / rateC - 1
            : rateT > 0 ? double.PositiveInfinity
            : 0;
}
