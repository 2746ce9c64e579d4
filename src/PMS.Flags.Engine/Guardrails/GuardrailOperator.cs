namespace PMS.Flags.Engine.Guardrails;

/// <summary>The comparison that makes a series breach, as in a Prometheus alert expression (<c>expr &gt; threshold</c>).</summary>
public enum GuardrailOperator
{
    GreaterThan,
    LessThan,
}
