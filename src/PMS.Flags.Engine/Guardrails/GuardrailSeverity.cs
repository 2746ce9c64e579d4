namespace PMS.Flags.Engine.Guardrails;

/// <summary>What a breach means for a rollout: Critical rolls back at once (flag off first), Warning pauses for a person to decide.</summary>
public enum GuardrailSeverity
{
    Critical,
    Warning,
}
