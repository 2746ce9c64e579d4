using System.Globalization;
using Polly.Timeout;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// A health endpoint as a guardrail (<c>-HealthUrl</c>): any answer other than 2xx breaches, and the latency is the
/// measured value (breaching too when a latency threshold is set). Only connection faults and timeouts are retried;
/// a 5xx is the measurement. An endpoint that cannot be reached is an Error, governed by the no-data policy.
/// </summary>
public sealed class HttpHealthGuardrail : IGuardrail
{
    private readonly GuardrailHttp http;
    private readonly TimeProvider time;

    internal HttpHealthGuardrail(GuardrailDefinition definition, GuardrailHttp http, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.HttpHealthKind)
        {
            throw new ArgumentException($"Not a {GuardrailDefinition.HttpHealthKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        this.http = http;
        this.time = time;
    }

    public string Name => Definition.Name;

    public GuardrailSeverity Severity => Definition.Severity;

    public GuardrailDefinition Definition { get; }

    public async Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken)
    {
        var url = Definition.HealthUrl!;
        var evaluatedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var baseline = new GuardrailResult
        {
            Guardrail = Definition.Name,
            Kind = Definition.Kind,
            Severity = Definition.Severity,
            Query = url.AbsoluteUri,
            Expression = Definition.Expression,
            Operator = GuardrailOperator.GreaterThan,
            Threshold = Definition.Threshold,
            For = Definition.For,
            NoData = Definition.NoData,
            EvaluatedAt = evaluatedAt,
        };

        GuardrailResult raw;
        try
        {
            using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            var latency = time.GetElapsedTime(started);
            var seconds = Math.Round(latency.TotalSeconds, 4);
            var ok = (int)response.StatusCode is >= 200 and < 300;
            var slow = Definition.Threshold is { } limit && seconds > limit;
            raw = baseline with
            {
                Status = GuardrailStatus.Healthy,
                Reason = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} in {seconds.ToString("0.####", CultureInfo.InvariantCulture)} s",
                Series = new[]
                {
                    new GuardrailSeries
                    {
                        Labels = new Dictionary<string, string> { ["url"] = url.AbsoluteUri },
                        RawValue = seconds.ToString("R", CultureInfo.InvariantCulture),
                        Value = seconds,
                        ConditionMet = !ok || slow,
                    },
                },
            };
        }
        catch (HttpRequestException ex)
        {
            raw = baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"{url} is unreachable after {http.Options.MaxRetryAttempts + 1} attempts: {ex.Message}" };
        }
        catch (TimeoutRejectedException)
        {
            raw = baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"{url} did not answer within {http.Options.AttemptTimeout.TotalSeconds:0.#} s ({http.Options.MaxRetryAttempts + 1} attempts)" };
        }

        return ForDurationTracker.Track(raw with { Latency = time.GetElapsedTime(started) }, null);
    }

    public override string ToString() => Definition.ToString();
}
