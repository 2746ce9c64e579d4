using System.Globalization;
using System.Text;

namespace PMS.Flags.TestServers.Backend;

/// <summary>
/// Simulated request traffic whose error rate and latency follow the flag's exposure: a share of requests equal to the
/// effective rollout percentage uses the flagged feature. Every request is counted under the flag's key and the variant
/// it got (OpenTelemetry's feature_flag.key and feature_flag.result.variant, as the Prometheus exporter spells them):
/// exposed requests carry "true", the rest "false". A variant's series appear once it has served a request, as a real
/// client library creates a label set on first use.
/// Faults: <see cref="FeatureFaulty"/> makes every exposed request fail at <see cref="FaultErrorRate"/> and answer in
/// <see cref="FaultLatencySeconds"/>; the cohort-only knobs fail (<see cref="CohortErrorRate"/>) or slow down
/// (<see cref="CohortSlowRate"/>) that share of the exposed requests only; <see cref="BaseErrorRate"/> fails that share
/// of every request. Counters advance with wall-clock time, as expected values, so Prometheus' rate() sees a steady stream.
/// </summary>
public sealed class TrafficSimulator
{
    public const string Exposed = "true";
    public const string Unexposed = "false";
    private static readonly double[] Buckets = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5 };
    private const double HealthyLatency = 0.08;
    private readonly object gate = new();
    private readonly Dictionary<string, VariantCounters> variants = new(StringComparer.Ordinal)
    {
        [Unexposed] = new VariantCounters(Buckets.Length + 1),
        [Exposed] = new VariantCounters(Buckets.Length + 1),
    };

    private DateTimeOffset last;

    public TrafficSimulator(BackendStandInOptions options, DateTimeOffset now)
    {
        Flag = options.Flag;
        RequestsPerSecond = options.RequestsPerSecond;
        BaseErrorRate = options.BaseErrorRate;
        FeatureFaulty = options.FeatureFaulty;
        FaultErrorRate = options.FaultErrorRate;
        FaultLatencySeconds = options.FaultLatencySeconds;
        last = now;
    }

    public string Flag { get; }

    public double RequestsPerSecond { get; set; }

    public double BaseErrorRate { get; set; }

    public bool FeatureFaulty { get; set; }

    public double FaultErrorRate { get; set; }

    public double FaultLatencySeconds { get; set; }

    /// <summary>Share of exposed requests that fail (on top of the base rate), whatever <see cref="FeatureFaulty"/> says.</summary>
    public double CohortErrorRate { get; set; }

    /// <summary>Share of exposed requests that answer in <see cref="FaultLatencySeconds"/>.</summary>
    public double CohortSlowRate { get; set; }

    /// <summary>Advances the counters to <paramref name="now"/> at the given effective exposure (0–100).</summary>
    public void Advance(DateTimeOffset now, double exposurePercent)
    {
        lock (gate)
        {
            var seconds = Math.Max(0, (now - last).TotalSeconds);
            last = now;
            var requests = RequestsPerSecond * seconds;
            // Each share on its own, so that 0 % and 100 % give exactly no request to the other variant.
            var percent = Math.Clamp(exposurePercent, 0, 100);
            var exposed = requests * (percent / 100.0);
            Serve(variants[Unexposed], requests * ((100 - percent) / 100.0), BaseErrorRate, 0);
            var errorRate = FeatureFaulty ? FaultErrorRate : 0;
            var slowRate = FeatureFaulty ? 1 : 0;
            Serve(variants[Exposed], exposed, Math.Min(1, BaseErrorRate + Math.Max(errorRate, CohortErrorRate)), Math.Max(slowRate, CohortSlowRate));
        }
    }

    public string RenderMetrics()
    {
        var text = new StringBuilder();
        lock (gate)
        {
            var served = variants.Where(v => v.Value.Requests > 0).OrderBy(v => v.Key, StringComparer.Ordinal).ToArray();
            text.AppendLine("# HELP http_requests_total Requests served, by status code, handler and the flag variant the request got.");
            text.AppendLine("# TYPE http_requests_total counter");
            foreach (var (variant, c) in served)
            {
                text.AppendLine(FormattableString.Invariant($"http_requests_total{{{Labels(variant)},method=\"GET\",status=\"200\"}} {c.Ok:0.###}"));
                text.AppendLine(FormattableString.Invariant($"http_requests_total{{{Labels(variant)},method=\"GET\",status=\"500\"}} {c.ServerErrors:0.###}"));
            }

            text.AppendLine("# HELP http_request_duration_seconds Request latency.");
            text.AppendLine("# TYPE http_request_duration_seconds histogram");
            foreach (var (variant, c) in served)
            {
                double cumulative = 0;
                for (var i = 0; i < Buckets.Length; i++)
                {
                    cumulative += c.BucketCounts[i];
                    text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_bucket{{{Labels(variant)},le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative:0.###}"));
                }

                cumulative += c.BucketCounts[^1];
                text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_bucket{{{Labels(variant)},le=\"+Inf\"}} {cumulative:0.###}"));
                text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_sum{{{Labels(variant)}}} {c.LatencySum:0.###}"));
                text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_count{{{Labels(variant)}}} {cumulative:0.###}"));
            }
        }

        return text.ToString();
    }

    private string Labels(string variant)
        => $"feature_flag_key=\"{Flag.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\",feature_flag_result_variant=\"{variant}\",handler=\"/api/v1/appointments\"";

    private void Serve(VariantCounters counters, double requests, double errorRate, double slowRate)
    {
        if (requests <= 0)
        {
            return;
        }

        var failures = requests * Math.Clamp(errorRate, 0, 1);
        counters.Requests += requests;
        counters.ServerErrors += failures;
        counters.Ok += requests - failures;
        var slow = requests * Math.Clamp(slowRate, 0, 1);
        Observe(counters, HealthyLatency, requests - slow);
        Observe(counters, FaultLatencySeconds, slow);
    }

    private static void Observe(VariantCounters counters, double latency, double count)
    {
        var index = Array.FindIndex(Buckets, b => latency <= b);
        counters.BucketCounts[index < 0 ? Buckets.Length : index] += count;
        counters.LatencySum += latency * count;
    }

    private sealed class VariantCounters(int buckets)
    {
        public double Requests { get; set; }

        public double Ok { get; set; }

        public double ServerErrors { get; set; }

        public double LatencySum { get; set; }

        public double[] BucketCounts { get; } = new double[buckets];
    }
}
