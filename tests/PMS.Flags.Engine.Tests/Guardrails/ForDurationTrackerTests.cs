using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>Prometheus' "for": per series, across consecutive counted evaluations, carried only in the results themselves.</summary>
public sealed class ForDurationTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 12, 9, 0, 0, TimeSpan.Zero);

    private static GuardrailResult Measured(DateTimeOffset at, params (string Status, double Value)[] series) => new()
    {
        Guardrail = "HighErrorRate",
        Kind = "Prometheus",
        Severity = GuardrailSeverity.Critical,
        Status = GuardrailStatus.Healthy,
        Operator = GuardrailOperator.GreaterThan,
        Threshold = 0.05,
        For = TimeSpan.FromMinutes(2),
        EvaluatedAt = at,
        Series = series.Select(s => new GuardrailSeries
        {
            Labels = new Dictionary<string, string> { ["status"] = s.Status },
            RawValue = s.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Value = s.Value,
            ConditionMet = s.Value > 0.05,
        }).ToArray(),
    };

    [Fact]
    public void Each_series_is_tracked_on_its_own_and_breaches_after_holding_for_the_whole_duration()
    {
        var r1 = ForDurationTracker.Track(Measured(T0, ("500", 0.1), ("503", 0.01)), null);
        var r2 = ForDurationTracker.Track(Measured(T0.AddMinutes(1), ("500", 0.1), ("503", 0.2)), r1.ActiveSince);
        var r3 = ForDurationTracker.Track(Measured(T0.AddMinutes(2), ("500", 0.1), ("503", 0.2)), r2.ActiveSince);

        Assert.Equal(GuardrailStatus.Pending, r1.Status);
        Assert.Equal(GuardrailStatus.Pending, r2.Status);
        Assert.Equal(GuardrailStatus.Breached, r3.Status);
        Assert.Equal(new[] { "{status=\"500\"}" }, r3.Series.Where(s => s.Firing).Select(s => s.Key));
        Assert.Equal(T0, r3.ActiveSince["{status=\"500\"}"]);
        Assert.Equal(T0.AddMinutes(1), r3.ActiveSince["{status=\"503\"}"]);
        Assert.Contains("{status=\"500\"} = 0.1 (held 2m of 2m", r3.Evidence);
    }

    [Fact]
    public void A_counted_evaluation_without_the_condition_resets_but_an_uncounted_one_changes_nothing()
    {
        var r1 = ForDurationTracker.Track(Measured(T0, ("500", 0.1)), null);
        var error = ForDurationTracker.Track(Measured(T0.AddMinutes(1)) with { Status = GuardrailStatus.Error, Counted = false, Reason = "down" }, r1.ActiveSince);
        var r3 = ForDurationTracker.Track(Measured(T0.AddMinutes(2), ("500", 0.1)), error.ActiveSince);
        var healthy = ForDurationTracker.Track(Measured(T0.AddMinutes(3), ("500", 0.01)), r3.ActiveSince);
        var r5 = ForDurationTracker.Track(Measured(T0.AddMinutes(4), ("500", 0.1)), healthy.ActiveSince);

        Assert.Equal(GuardrailStatus.Error, error.Status);
        Assert.Equal(T0, error.ActiveSince["{status=\"500\"}"]);
        Assert.Equal(GuardrailStatus.Breached, r3.Status);
        Assert.Equal(GuardrailStatus.Healthy, healthy.Status);
        Assert.Empty(healthy.ActiveSince);
        Assert.Equal(GuardrailStatus.Pending, r5.Status);
        Assert.Equal(T0.AddMinutes(4), r5.ActiveSince["{status=\"500\"}"]);
    }

    [Fact]
    public void Tracking_survives_the_ledger_round_trip()
    {
        var r1 = ForDurationTracker.Track(Measured(T0, ("500", 0.1)), null);
        var stored = GuardrailResult.FromJson(Newtonsoft.Json.Linq.JObject.Parse(r1.ToJson().ToString()));
        var r2 = ForDurationTracker.Track(Measured(T0.AddMinutes(2), ("500", 0.1)), stored.ActiveSince);

        Assert.Equal(GuardrailStatus.Breached, r2.Status);
        Assert.Equal(r1.Evidence, stored.Evidence);
    }
}
