using System.Globalization;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// A Kubernetes deployment as a guardrail (<c>New-FlagGuardrail -Deployment</c>): one series per pod, whose condition is
/// "not ready, or a container restarted since the stage began" (the rollout's <see cref="GuardrailContext.StageEnteredAt"/>;
/// outside a stage the last <see cref="DefaultLookBack"/>); healthy while every
/// desired pod is ready and none restarted. An API server that cannot be asked is an Error, governed by the no-data
/// policy. KubernetesClient loads only when this guardrail is first evaluated.
/// </summary>
public sealed class DeploymentGuardrail : IGuardrail
{
    private readonly TimeProvider time;

    internal DeploymentGuardrail(GuardrailDefinition definition, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.DeploymentKind)
        {
            throw new ArgumentException($"Not a {GuardrailDefinition.DeploymentKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        this.time = time;
    }

    public string Name => Definition.Name;

    public GuardrailSeverity Severity => Definition.Severity;

    public GuardrailDefinition Definition { get; }

    /// <summary>Outside a rollout stage (Test-FlagGuardrail, the check before a start), restarts count over this look-back.</summary>
    public static readonly TimeSpan DefaultLookBack = TimeSpan.FromMinutes(15);

    public Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken) => EvaluateAsync(GuardrailContext.None, cancellationToken);

    public async Task<GuardrailResult> EvaluateAsync(GuardrailContext context, CancellationToken cancellationToken)
    {
        var evaluatedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var since = context.StageEnteredAt ?? evaluatedAt - DefaultLookBack;
        var baseline = new GuardrailResult
        {
            Guardrail = Definition.Name,
            Kind = Definition.Kind,
            Severity = Definition.Severity,
            Query = $"deployment {Definition.Namespace}/{Definition.Deployment}",
            Expression = Definition.Expression,
            Operator = GuardrailOperator.GreaterThan,
            Threshold = 0,
            For = Definition.For,
            NoData = Definition.NoData,
            EvaluatedAt = evaluatedAt,
        };

        GuardrailResult raw;
        try
        {
            using var operations = DeploymentOperations.Connect(new KubernetesTarget { Namespace = Definition.Namespace!, Deployment = Definition.Deployment!, KubeConfigPath = Definition.KubeConfig, Context = Definition.KubeContext }, time);
            var snapshot = await operations.ReadAsync(cancellationToken).ConfigureAwait(false);
            var pods = await operations.PodHealthAsync(null, cancellationToken).ConfigureAwait(false);
            var series = pods.Select(p =>
            {
                var restarted = p.LastRestartAt is { } at && at >= since;
                var bad = (p.Ready ? 0 : 1) + (restarted ? 1 : 0);
                return new GuardrailSeries
                {
                    Labels = new Dictionary<string, string> { ["pod"] = p.Name, ["ready"] = p.Ready ? "true" : "false", ["restarts"] = p.Restarts.ToString(CultureInfo.InvariantCulture) },
                    RawValue = bad.ToString(CultureInfo.InvariantCulture),
                    Value = bad,
                    ConditionMet = bad > 0,
                };
            }).ToArray();
            var missing = Math.Max(0, snapshot.SpecReplicas - pods.Count(p => p.Ready));
            raw = baseline with
            {
                Status = GuardrailStatus.Healthy,
                Series = series,
                Reason = $"{pods.Count(p => p.Ready)}/{snapshot.SpecReplicas} pods ready; restarts since {since.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}: {pods.Count(p => p.LastRestartAt >= since)}{(missing > 0 ? $"; {missing} desired pod(s) not ready" : "")}",
                Counted = true,
            };
            if (series.Length == 0)
            {
                raw = raw with { Status = GuardrailStatus.NoData, Counted = false, Reason = "the deployment has no pods" };
            }
        }
        catch (FlagsException ex)
        {
            raw = baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"{ex.ErrorId}: {ex.Message}" };
        }

        return ForDurationTracker.Track(raw with { Latency = time.GetElapsedTime(started) }, null);
    }

    public override string ToString() => Definition.ToString();
}
