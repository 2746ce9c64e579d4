using System.Globalization;
using System.Text;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Reporting;

/// <summary>
/// Speaks the CI system's own language so a rollout step is readable where people look: under GitHub Actions a Markdown
/// job summary ($GITHUB_STEP_SUMMARY) and ::error::/::warning:: annotations; under Azure Pipelines ##vso[task.logissue]
/// lines. Outside CI it says nothing.
/// </summary>
public sealed class CiReporter
{
    private readonly Func<string, string?> environment;

    public CiReporter(Func<string, string?>? environment = null) => this.environment = environment ?? Environment.GetEnvironmentVariable;

    public bool IsGitHubActions => string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase);

    public bool IsAzurePipelines => string.Equals(environment("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Annotation lines for a step's outcome: errors for a rollback or a critical breach, warnings for a pause or a warning breach.</summary>
    public IReadOnlyList<string> Annotations(RolloutStepResult result)
    {
        var lines = new List<string>();
        if (!IsGitHubActions && !IsAzurePipelines)
        {
            return lines;
        }

        foreach (var breach in result.Guardrails.Where(g => g.Status == GuardrailStatus.Breached))
        {
            var message = $"{result.Flag} [{result.Environment}] guardrail {breach.Evidence}";
            lines.Add(breach.Severity == GuardrailSeverity.Critical ? Error($"Guardrail breached: {breach.Guardrail}", message) : Warning($"Guardrail breached: {breach.Guardrail}", message));
        }

        switch (result.Action)
        {
            case RolloutStepAction.RolledBack:
                lines.Add(Error("Rollout rolled back", $"{result.Flag} [{result.Environment}] was switched off: {result.Reason}{DetectionText(result)}"));
                break;
            case RolloutStepAction.Paused:
                lines.Add(Warning("Rollout paused", $"{result.Flag} [{result.Environment}] paused at stage {result.StageNumber}/{result.StageCount}: {result.Reason}"));
                break;
        }

        return lines;
    }

    /// <summary>Appends a Markdown summary of the step to $GITHUB_STEP_SUMMARY; returns the file written, or null outside GitHub Actions.</summary>
    public string? AppendSummary(RolloutStepResult result)
    {
        var path = environment("GITHUB_STEP_SUMMARY");
        if (!IsGitHubActions || string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        File.AppendAllText(path, Summary(result), new UTF8Encoding(false));
        return path;
    }

    public static string Summary(RolloutStepResult result)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### Flag rollout `{result.Flag}` in `{result.Environment}`: {result.Action}");
        text.AppendLine();
        text.AppendLine("| Rollout | Status | Stage | Percentage | Remaining bake |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| `{result.RolloutId}` | {result.Status} | {result.StageNumber}/{result.StageCount} | {Percent(result.Percentage)} | {(result.RemainingBake is { } r ? GuardrailResult.Duration(r) : "-")} |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Cell(result.Reason)}{DetectionText(result)}");
        if (result.Guardrails.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| Guardrail | Severity | Status | Value | Threshold |");
            text.AppendLine("|---|---|---|---|---|");
            foreach (var g in result.Guardrails)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(g.Guardrail)} | {g.Severity} | {g.Status} | {(g.Value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "no data")} | {Cell(g.ThresholdText)} |");
            }
        }

        text.AppendLine();
        return text.ToString();
    }

    private string Error(string title, string message) => IsGitHubActions
        ? $"::error title={EscapeProperty(title)}::{EscapeData(message)}"
        : $"##vso[task.logissue type=error]{EscapeVso(title + ": " + message)}";

    private string Warning(string title, string message) => IsGitHubActions
        ? $"::warning title={EscapeProperty(title)}::{EscapeData(message)}"
        : $"##vso[task.logissue type=warning]{EscapeVso(title + ": " + message)}";

    private static string DetectionText(RolloutStepResult result)
        => result.DetectionToFlagOff is { } d ? string.Create(CultureInfo.InvariantCulture, $" (detection to flag off {d.TotalMilliseconds:0} ms)") : "";

    private static string Percent(decimal? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    // GitHub's workflow-command escaping: data escapes %, CR, LF; properties also escape : and ,.
    private static string EscapeData(string value) => value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    private static string EscapeProperty(string value) => EscapeData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    // Azure Pipelines logging commands: one line; ; and ] are escaped as %3B and %5D.
    private static string EscapeVso(string value) => value.Replace("%", "%AZP25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal).Replace("]", "%5D", StringComparison.Ordinal);
}
