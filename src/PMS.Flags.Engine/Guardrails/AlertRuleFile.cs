using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Newtonsoft.Json;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Writes Prometheus guardrails as a Prometheus alerting-rule file (groups, alert, expr, for, labels.severity,
/// annotations), so the alerts a team watches during a bake are the checks the rollout makes. The presets come out as
/// the playbook's "Alert Thresholds" block, byte for byte. Every guardrail is checked before anything is written: a
/// rule file Prometheus refuses to load is worse than none, because the alert silently never fires.
/// </summary>
public static class AlertRuleFile
{
    public const string DefaultGroup = "feature-flag-rollout";

    // The playbook's summaries for its two alerts; custom guardrails get a summary and description of their own.
    private static readonly IReadOnlyDictionary<string, string> PresetSummaries = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [GuardrailPresets.HighErrorRate] = "High error rate detected during feature rollout",
        [GuardrailPresets.SlowResponseTime] = "Response time degradation detected",
    };

    private static readonly Regex GroupName = new(@"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", RegexOptions.CultureInvariant);

    /// <summary>The rule file's text; throws a FlagsException (nothing written anywhere) for the first guardrail that cannot be a rule.</summary>
    public static string Render(IReadOnlyList<GuardrailDefinition> guardrails, string group = DefaultGroup)
    {
        Check(guardrails, group);
        var text = new StringBuilder();
        text.Append("groups:\n");
        text.Append("  - name: ").Append(group).Append('\n');
        text.Append("    rules:\n");
        for (var i = 0; i < guardrails.Count; i++)
        {
            if (i > 0)
            {
                text.Append('\n');
            }

            AppendRule(text, guardrails[i]);
        }

        return text.ToString();
    }

    /// <summary>
    /// Renders, then replaces <paramref name="path"/> atomically (a temporary file beside it, then a rename): a failure
    /// halfway leaves whatever was there before, and a refused guardrail leaves no file at all.
    /// </summary>
    public static void Write(IReadOnlyList<GuardrailDefinition> guardrails, string path, string group = DefaultGroup)
    {
        var text = Render(guardrails, group);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.WriteAllText(temporary, text, new UTF8Encoding(false));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new FlagsException("ExportUnwritable", FlagsErrorKind.WriteError, $"Could not write '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>Prometheus' duration notation (2m, 1h30m, 500ms), as a rule's <c>for</c> takes it.</summary>
    public static string PrometheusDuration(TimeSpan span)
    {
        if (span <= TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        void Part(long value, string unit)
        {
            if (value > 0)
            {
                text.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
            }
        }

        Part((long)span.TotalHours, "h");
        Part(span.Minutes, "m");
        Part(span.Seconds, "s");
        Part(span.Milliseconds, "ms");
        return text.ToString();
    }

    private static void Check(IReadOnlyList<GuardrailDefinition> guardrails, string group)
    {
        if (guardrails.Count == 0)
        {
            throw Invalid("AlertRuleGuardrailRequired", "There is no guardrail to write as an alert rule.", null);
        }

        if (string.IsNullOrWhiteSpace(group) || !GroupName.IsMatch(group))
        {
            throw Invalid("AlertRuleGroupInvalid", $"'{group}' is not a usable rule group name: letters, digits, '_', '.', ':' and '-', starting with a letter or digit.", group);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var guardrail in guardrails)
        {
            guardrail.Validate();
            if (guardrail.Kind != GuardrailDefinition.PrometheusKind)
            {
                throw Invalid(
                    "AlertRuleKindUnsupported",
                    $"Guardrail '{guardrail.Name}' is a {guardrail.Kind} guardrail; only Prometheus guardrails (the presets and -Query ones) are PromQL a Prometheus rule can hold.",
                    guardrail.Name);
            }

            if (PromQlSyntax.Problem(guardrail.Query) is { } problem)
            {
                throw Invalid("AlertRuleQueryInvalid", $"Guardrail '{guardrail.Name}': its query is not valid PromQL ({problem}); no rule file was written.", guardrail.Name);
            }

            if (!seen.Add(guardrail.Name))
            {
                throw Invalid("GuardrailNameDuplicate", $"Two guardrails are named '{guardrail.Name}'; each alert in a group needs its own name.", guardrail.Name);
            }
        }
    }

    private static void AppendRule(StringBuilder text, GuardrailDefinition guardrail)
    {
        var expression = $"{guardrail.Query} {guardrail.Operator.Symbol()} {GuardrailResult.Number(guardrail.Threshold!.Value)}";
        text.Append("      - alert: ").Append(Scalar(guardrail.Name)).Append('\n');
        text.Append("        expr: ").Append(Scalar(expression)).Append('\n');
        if (guardrail.For > TimeSpan.Zero)
        {
            text.Append("        for: ").Append(PrometheusDuration(guardrail.For)).Append('\n');
        }

        text.Append("        labels:\n");
        text.Append("          severity: ").Append(guardrail.Severity.ToString().ToLowerInvariant()).Append('\n');
        text.Append("        annotations:\n");
        if (guardrail.Preset is { } preset && PresetSummaries.TryGetValue(preset, out var summary) && guardrail.Name == preset)
        {
            text.Append("          summary: ").Append(Quoted(summary)).Append('\n');
            return;
        }

        text.Append("          summary: ").Append(Quoted($"Guardrail {guardrail.Name} breached during feature rollout")).Append('\n');
        var lasting = guardrail.For > TimeSpan.Zero ? $" for {PrometheusDuration(guardrail.For)}" : "";
        text.Append("          description: ").Append(Quoted($"{expression} held{lasting}; a rollout guarded by {guardrail.Name} {(guardrail.Severity == GuardrailSeverity.Critical ? "rolls back" : "pauses")}.")).Append('\n');
    }

    // Plain when YAML reads the text back as the same string, single-quoted otherwise (the only escape is '').
    private static string Scalar(string value)
    {
        var plain = value.Length > 0
            && value == value.Trim()
            && "-?:,[]{}#&*!|>'\"%@`".IndexOf(value[0]) < 0
            && !value.Contains(": ", StringComparison.Ordinal)
            && !value.Contains(" #", StringComparison.Ordinal)
            && !value.EndsWith(':')
            && value.All(c => c >= ' ' && c != '\u007f')
            && !LooksLikeOtherType(value);
        return plain ? value : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static bool LooksLikeOtherType(string value)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
           || value.ToLowerInvariant() is "true" or "false" or "yes" or "no" or "on" or "off" or "null" or "~" or "y" or "n" or ".nan" or ".inf" or "-.inf";

    // JSON's string escapes are a subset of YAML's double-quoted ones.
    private static string Quoted(string value) => JsonConvert.ToString(value);

    private static FlagsException Invalid(string errorId, string message, string? target)
        => new(errorId, FlagsErrorKind.InvalidArgument, message, target);
}
