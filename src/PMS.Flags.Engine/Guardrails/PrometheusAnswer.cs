namespace PMS.Flags.Engine.Guardrails;

/// <summary>One instant query's outcome: the series, or why there are none to judge (unreachable, an error answer).</summary>
internal sealed record PrometheusAnswer(IReadOnlyList<GuardrailSeries> Samples, string? Error, IReadOnlyList<string> Warnings)
{
    public static PrometheusAnswer Failed(string error, IReadOnlyList<string>? warnings = null) => new(Array.Empty<GuardrailSeries>(), error, warnings ?? Array.Empty<string>());
}
