using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Readiness;

namespace PMS.Flags.Engine.Tests.Readiness;

/// <summary>An approval is of stages, bake time and guardrails in canonical form: order of guardrails does not matter, any content does.</summary>
public sealed class PlanFingerprintTests
{
    private static readonly Uri Prometheus = new("http://prometheus.monitoring:9090");
    private static readonly GuardrailDefinition Errors = GuardrailPresets.Create(GuardrailPresets.HighErrorRate, Prometheus);
    private static readonly GuardrailDefinition Latency = GuardrailPresets.Create(GuardrailPresets.SlowResponseTime, Prometheus);

    [Fact]
    public void The_same_plan_has_the_same_hash_whatever_the_order_of_its_guardrails()
    {
        var a = PlanFingerprint.Of("f", new[] { 5m, 25m, 100m }, TimeSpan.FromMinutes(30), new[] { Errors, Latency });
        var b = PlanFingerprint.Of("f", new[] { 5m, 25m, 100m }, TimeSpan.FromMinutes(30), new[] { Latency, Errors });

        Assert.Equal(a.Hash, b.Hash);
        Assert.Matches("^[0-9a-f]{64}$", a.Hash);
        Assert.Empty(a.Differences(b));
    }

    [Fact]
    public void A_recorded_plan_reads_back_to_the_same_hash()
    {
        var a = PlanFingerprint.Of("f", new[] { 5m, 12.5m, 100m }, TimeSpan.FromMinutes(30), new[] { Errors });

        Assert.Equal(a.Hash, PlanFingerprint.FromRecorded(a.Canonical).Hash);
    }

    [Fact]
    public void Each_changed_field_is_named_with_the_approved_and_the_new_value()
    {
        var approved = PlanFingerprint.Of("f", new[] { 5m, 25m, 50m, 100m }, TimeSpan.FromMinutes(30), new[] { Errors });

        Assert.Equal(new[] { "stages: approved 5,25,50,100, now 10,50,100" }, approved.Differences(PlanFingerprint.Of("f", new[] { 10m, 50m, 100m }, TimeSpan.FromMinutes(30), new[] { Errors })));
        Assert.Equal(new[] { "bake_time: approved 00:30:00, now 00:05:00" }, approved.Differences(PlanFingerprint.Of("f", new[] { 5m, 25m, 50m, 100m }, TimeSpan.FromMinutes(5), new[] { Errors })));
        Assert.Equal(new[] { "guardrails: HighErrorRate removed" }, approved.Differences(PlanFingerprint.Of("f", new[] { 5m, 25m, 50m, 100m }, TimeSpan.FromMinutes(30), Array.Empty<GuardrailDefinition>())));
        var loosened = GuardrailPresets.Create(GuardrailPresets.HighErrorRate, Prometheus, NoDataPolicy.Pass);
        var change = Assert.Single(approved.Differences(PlanFingerprint.Of("f", new[] { 5m, 25m, 50m, 100m }, TimeSpan.FromMinutes(30), new[] { loosened })));
        Assert.StartsWith("guardrails: HighErrorRate changed (", change, StringComparison.Ordinal);
        Assert.Contains("no_data", change, StringComparison.Ordinal);
    }
}
