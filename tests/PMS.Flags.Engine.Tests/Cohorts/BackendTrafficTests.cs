using PMS.Flags.TestServers.Backend;

namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>The backend stand-in's metrics: labelled by flag and variant per request, and cohort-only faults that touch the exposed requests only.</summary>
public sealed class BackendTrafficTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 12, 9, 0, 0, TimeSpan.Zero);

    private static TrafficSimulator Traffic() => new(new BackendStandInOptions { FlagFile = "unused.json", Flag = "telehealth_appointments_enabled", Environment = "staging", RequestsPerSecond = 100, BaseErrorRate = 0.01 }, Start);

    private static double Sample(string metrics, string series)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Each_variant_gets_its_own_series_once_it_has_served_a_request()
    {
        var traffic = Traffic();
        traffic.Advance(Start.AddSeconds(10), 0);
        var unexposedOnly = traffic.RenderMetrics();
        Assert.DoesNotContain("feature_flag_result_variant=\"true\"", unexposedOnly);
        Assert.Equal(990, Sample(unexposedOnly, "http_requests_total{feature_flag_key=\"telehealth_appointments_enabled\",feature_flag_result_variant=\"false\",handler=\"/api/v1/appointments\",method=\"GET\",status=\"200\"}"), 6);

        traffic.Advance(Start.AddSeconds(20), 10);
        var both = traffic.RenderMetrics();
        Assert.Equal(100, Sample(both, "http_request_duration_seconds_count{feature_flag_key=\"telehealth_appointments_enabled\",feature_flag_result_variant=\"true\",handler=\"/api/v1/appointments\"}"), 6);
        Assert.Equal(1, Sample(both, "http_requests_total{feature_flag_key=\"telehealth_appointments_enabled\",feature_flag_result_variant=\"true\",handler=\"/api/v1/appointments\",method=\"GET\",status=\"500\"}"), 6);
    }

    [Fact]
    public void A_cohort_only_fault_fails_and_slows_exposed_requests_only()
    {
        var traffic = Traffic();
        traffic.CohortErrorRate = 0.1;
        traffic.CohortSlowRate = 0.5;
        traffic.Advance(Start.AddSeconds(100), 5);
        var metrics = traffic.RenderMetrics();
        const string T = "feature_flag_key=\"telehealth_appointments_enabled\",feature_flag_result_variant=\"true\",handler=\"/api/v1/appointments\"";
        const string C = "feature_flag_key=\"telehealth_appointments_enabled\",feature_flag_result_variant=\"false\",handler=\"/api/v1/appointments\"";

        // 10,000 requests, 500 exposed: exposed fail at 1 % + 10 %, the rest at the base 1 % only.
        Assert.Equal(55, Sample(metrics, $"http_requests_total{{{T},method=\"GET\",status=\"500\"}}"), 6);
        Assert.Equal(95, Sample(metrics, $"http_requests_total{{{C},method=\"GET\",status=\"500\"}}"), 6);
        Assert.Equal(250, Sample(metrics, $"http_request_duration_seconds_count{{{T}}}") - Sample(metrics, $"http_request_duration_seconds_bucket{{{T},le=\"2\"}}"), 6);
        Assert.Equal(0, Sample(metrics, $"http_request_duration_seconds_count{{{C}}}") - Sample(metrics, $"http_request_duration_seconds_bucket{{{C},le=\"2\"}}"), 6);
    }

    [Fact]
    public async Task The_fault_knob_refuses_a_share_outside_zero_to_one_and_changes_nothing()
    {
        var file = Path.Combine(Path.GetTempPath(), "pms-flags-backend-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, "{ \"staging\": { \"telehealth_appointments_enabled\": false } }");
        try
        {
            await using var backend = await BackendStandIn.StartAsync(new BackendStandInOptions { FlagFile = file, Flag = "telehealth_appointments_enabled", Environment = "staging" });
            using var client = new HttpClient { BaseAddress = backend.BaseUri };
            var refused = await client.PostAsync("/_control/fault", new StringContent("{\"cohortErrorRate\": 1.5, \"cohortSlowRate\": 0.2}"));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("invalid_fault", await refused.Content.ReadAsStringAsync());
            Assert.Equal(0, backend.Traffic.CohortErrorRate);
            Assert.Equal(0, backend.Traffic.CohortSlowRate);

            var accepted = await client.PostAsync("/_control/fault", new StringContent("{\"cohortErrorRate\": 0.1}"));
            Assert.True(accepted.IsSuccessStatusCode);
            Assert.Equal(0.1, backend.Traffic.CohortErrorRate);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
