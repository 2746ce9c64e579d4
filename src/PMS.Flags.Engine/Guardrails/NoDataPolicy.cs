namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// What a rollout does when a guardrail cannot judge: an empty result, only NaN samples, traffic below the minimum, or
/// Prometheus unreachable. The default is Pause, so a blind rollout never advances silently (Flagger halts, Argo needs
/// hand-written expressions; here the choice is explicit and recorded).
/// Pause: the rollout pauses until someone resumes it.
/// Fail: no data counts as a breach of the guardrail's severity (Critical rolls back, Warning pauses).
/// Pass: no data counts as healthy. An unreachable or failing Prometheus never passes: Pass then pauses, because "no
/// samples" says nothing happened while "no answer" says nothing at all.
/// </summary>
public enum NoDataPolicy
{
    Pause,
    Fail,
    Pass,
}
