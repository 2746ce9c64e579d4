namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// The outcome of one guardrail evaluation.
/// Pending is Prometheus' "pending" alert state: the condition holds now but has not yet held for the guardrail's
/// For duration. It is not a breach, but a rollout never advances past it, because the next evaluation may be one.
/// </summary>
public enum GuardrailStatus
{
    Healthy,
    Pending,
    Breached,
    NoData,
    Error,
}
