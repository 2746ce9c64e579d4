namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// A check a rollout must pass before it advances. Implementations: <see cref="PrometheusGuardrail"/> (a PromQL
/// condition, like an alerting rule) and <see cref="HttpHealthGuardrail"/> (a health endpoint). A Kubernetes
/// deployment check (pods ready, no new restarts) fits the same shape: one series per pod, the condition "not ready or
/// restarted", a definition of kind "Deployment" that the factory builds.
/// </summary>
public interface IGuardrail
{
    string Name { get; }

    GuardrailSeverity Severity { get; }

    /// <summary>The serializable form this guardrail was built from; a rollout stores it so another process can rebuild it.</summary>
    GuardrailDefinition Definition { get; }

    /// <summary>
    /// Measures now. The result's status already applies the For duration as if there were no earlier evaluation
    /// (so a condition with For &gt; 0 is at most Pending); a rollout re-applies it against the tracking folded from
    /// its ledger with <see cref="ForDurationTracker.Track"/>.
    /// Unreachable or failing sources come back as status Error, never as an exception; only a query the source itself
    /// rejects (malformed PromQL) throws, as a FlagsException with ErrorId PrometheusQueryRejected.
    /// </summary>
    Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken);

    /// <summary>Measures now, inside a rollout stage (see <see cref="GuardrailContext"/>); guardrails that need no context measure as above.</summary>
    Task<GuardrailResult> EvaluateAsync(GuardrailContext context, CancellationToken cancellationToken) => EvaluateAsync(cancellationToken);
}
