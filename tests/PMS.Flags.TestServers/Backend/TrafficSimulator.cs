using System.Globalization;
using System.Text;

namespace PMS.Flags.TestServers.Backend;

/// <summary>
/// Simulated request traffic whose error rate and latency follow the flag's exposure: a share of requests equal to the
/// effective rollout percentage uses the flagged feature, and when the feature is faulty those requests fail (5xx) and
/// are slow. Counters advance with wall-clock time, so Prometheus' rate() sees a steady stream.
/// </summary>
public sealed class TrafficSimulator
{
    private static readonly double[] Buckets = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5 };
    private const double HealthyLatency = 0.08;
    private readonly object gate = new();
    private readonly double[] bucketCounts = new double[Buckets.Length + 1];
    private double ok;
    private double serverErrors;
    private double latencySum;
    private DateTimeOffset last;

    public TrafficSimulator(BackendStandInOptions options, DateTimeOffset now)
    {
        RequestsPerSecond = options.RequestsPerSecond;
        BaseErrorRate = options.BaseErrorRate;
        FeatureFaulty = options.FeatureFaulty;
        FaultErrorRate = options.FaultErrorRate;
        FaultLatencySeconds = options.FaultLatencySeconds;
        last = now;
    }

    public double RequestsPerSecond { get; set; }

    public double BaseErrorRate { get; set; }

    public bool FeatureFaulty { get; set; }

    public double FaultErrorRate { get; set; }

    public double FaultLatencySeconds { get; set; }

    /// <summary>Advances the counters to <paramref name="now"/> at the given effective exposure (0–100).</summary>
    public void Advance(DateTimeOffset now, double exposurePercent)
    {
        lock (gate)
        {
            var seconds = Math.Max(0, (now - last).TotalSeconds);
            last = now;
            var requests = RequestsPerSecond * seconds;
            var feature = requests * Math.Clamp(exposurePercent, 0, 100) / 100.0;
            var featureFailures = FeatureFaulty ? feature * FaultErrorRate : 0;
            var baseFailures = requests * BaseErrorRate;
            var failures = Math.Min(requests, featureFailures + baseFailures);
            serverErrors += failures;
            ok += requests - failures;

            var slow = FeatureFaulty ? feature : 0;
            var fast = requests - slow;
            Observe(HealthyLatency, fast);
            Observe(FaultLatencySeconds, slow);
        }
    }

    public string RenderMetrics()
    {
        var text = new StringBuilder();
        lock (gate)
        {
            text.AppendLine("# HELP http_requests_total Requests served, by status code and handler.");
            text.AppendLine("# TYPE http_requests_total counter");
            text.AppendLine(FormattableString.Invariant($"http_requests_total{{handler=\"/api/v1/appointments\",method=\"GET\",status=\"200\"}} {ok:0.###}"));
            text.AppendLine(FormattableString.Invariant($"http_requests_total{{handler=\"/api/v1/appointments\",method=\"GET\",status=\"500\"}} {serverErrors:0.###}"));
            text.AppendLine("# HELP http_request_duration_seconds Request latency.");
            text.AppendLine("# TYPE http_request_duration_seconds histogram");
            double cumulative = 0;
            for (var i = 0; i < Buckets.Length; i++)
            {
                cumulative += bucketCounts[i];
                text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_bucket{{handler=\"/api/v1/appointments\",le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative:0.###}"));
            }

            cumulative += bucketCounts[^1];
            text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_bucket{{handler=\"/api/v1/appointments\",le=\"+Inf\"}} {cumulative:0.###}"));
            text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_sum{{handler=\"/api/v1/appointments\"}} {latencySum:0.###}"));
            text.AppendLine(FormattableString.Invariant($"http_request_duration_seconds_count{{handler=\"/api/v1/appointments\"}} {cumulative:0.###}"));
        }

        return text.ToString();
    }

    private void Observe(double latency, double count)
    {
        var index = Array.FindIndex(Buckets, b => latency <= b);
        bucketCounts[index < 0 ? Buckets.Length : index] += count;
        latencySum += latency * count;
    }
}
