namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Prometheus' <c>for</c> semantics across evaluations: a series' condition must hold at every counted evaluation
/// from its first sighting (activeAt) until <c>evaluatedAt - activeAt &gt;= For</c> before it breaches. A counted
/// evaluation in which the series no longer meets the condition (or is gone) resets it. An evaluation that measured
/// nothing (Prometheus unreachable, traffic below the minimum) neither starts nor resets anything, as a failed rule
/// evaluation leaves an alert's state alone.
/// The tracking lives in each result's <see cref="GuardrailResult.ActiveSince"/>, which goes into the ledger with the
/// <c>guardrail_evaluated</c> event, so any process can fold it back and carry on: this is a pure function of the
/// previous tracking and the new measurement.
/// </summary>
public static class ForDurationTracker
{
    private static readonly IReadOnlyDictionary<string, DateTimeOffset> Nothing = new Dictionary<string, DateTimeOffset>();

    public static GuardrailResult Track(GuardrailResult measured, IReadOnlyDictionary<string, DateTimeOffset>? previous)
    {
        previous ??= Nothing;
        if (!measured.Counted)
        {
            return measured with { ActiveSince = previous };
        }

        var active = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var series = measured.Series.Select(s =>
        {
            if (!s.ConditionMet)
            {
                return s with { ActiveSince = null, Firing = false };
            }

            // A sighting later than "now" can only come from a clock step backwards; start the count again rather than trust it.
            var since = previous.TryGetValue(s.Key, out var earlier) && earlier <= measured.EvaluatedAt ? earlier : measured.EvaluatedAt;
            active[s.Key] = since;
            return s with { ActiveSince = since, Firing = measured.EvaluatedAt - since >= measured.For };
        }).ToArray();

        var status = series.Any(s => s.Firing) ? GuardrailStatus.Breached
            : series.Any(s => s.ConditionMet) ? GuardrailStatus.Pending
            : measured.Status is GuardrailStatus.Breached or GuardrailStatus.Pending ? GuardrailStatus.Healthy
            : measured.Status;
        return measured with { Series = series, ActiveSince = active, Status = status };
    }
}
