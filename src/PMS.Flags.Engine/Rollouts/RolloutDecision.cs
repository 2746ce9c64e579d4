using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>What a Step will do, before it does it: the pure outcome of (folded state, fresh measurements, now).</summary>
internal sealed class RolloutDecision
{
    public required RolloutStepAction Action { get; init; }

    public required string Reason { get; init; }

    /// <summary>For a pause or rollback: guardrail_breach, no_data or drift.</summary>
    public string? Cause { get; init; }

    /// <summary>The guardrails that caused a pause or rollback (breached, or blind under a Pause/Fail policy).</summary>
    public IReadOnlyList<GuardrailResult> Culprits { get; init; } = Array.Empty<GuardrailResult>();

    public TimeSpan RemainingBake { get; init; }
}
