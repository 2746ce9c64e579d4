namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// The comparison that makes a series breach, as in a Prometheus alert expression (<c>expr &gt; threshold</c>).
/// <see cref="GuardrailOperators"/> parses the playbook's notation (&gt;, &gt;=, &lt;, &lt;=) as well as these names.
/// </summary>
public enum GuardrailOperator
{
    GreaterThan,
    LessThan,
    GreaterOrEqual,
    LessOrEqual,
}
