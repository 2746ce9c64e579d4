using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// What each <see cref="GuardrailOperator"/> means: its PromQL symbol, which direction is worse, and the comparison
/// itself, so that no caller has to assume there are only two operators.
/// </summary>
public static class GuardrailOperators
{
    /// <summary>Every spelling accepted for each operator: the PromQL symbol first, then the name.</summary>
    public static IReadOnlyList<string> Spellings { get; } = new[] { ">", ">=", "<", "<=", "GreaterThan", "GreaterOrEqual", "LessThan", "LessOrEqual" };

    /// <summary>
    /// Reads an operator as a person writes it: the playbook's <c>&gt;</c>, <c>&gt;=</c>, <c>&lt;</c>, <c>&lt;=</c> or a
    /// name (case-insensitive). Anything else is GuardrailOperatorInvalid; numbers are refused although Enum.Parse
    /// would take them, because "1" is not an operator anyone means.
    /// </summary>
    public static GuardrailOperator Parse(string? text) => text?.Trim() switch
    {
        ">" => GuardrailOperator.GreaterThan,
        ">=" => GuardrailOperator.GreaterOrEqual,
        "<" => GuardrailOperator.LessThan,
        "<=" => GuardrailOperator.LessOrEqual,
        { } name when name.Length > 0 && char.IsLetter(name[0]) && Enum.TryParse<GuardrailOperator>(name, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) => parsed,
        _ => throw new FlagsException(
            "GuardrailOperatorInvalid",
            FlagsErrorKind.InvalidArgument,
            $"'{text}' is not a guardrail operator. Use one of: {string.Join(", ", Spellings)}.",
            text),
    };

    public static string Symbol(this GuardrailOperator op) => op switch
    {
        GuardrailOperator.GreaterThan => ">",
        GuardrailOperator.GreaterOrEqual => ">=",
        GuardrailOperator.LessThan => "<",
        GuardrailOperator.LessOrEqual => "<=",
        _ => "?",
    };

    /// <summary>True for the operators whose breach is "too high": the worst series is the highest one.</summary>
    public static bool HigherIsWorse(this GuardrailOperator op) => op is GuardrailOperator.GreaterThan or GuardrailOperator.GreaterOrEqual;

    /// <summary>The breach condition; NaN never meets it, as in PromQL.</summary>
    public static bool Holds(this GuardrailOperator op, double value, double threshold) => !double.IsNaN(value) && op switch
    {
        GuardrailOperator.GreaterThan => value > threshold,
        GuardrailOperator.GreaterOrEqual => value >= threshold,
        GuardrailOperator.LessThan => value < threshold,
        GuardrailOperator.LessOrEqual => value <= threshold,
        _ => false,
    };
}
