using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// The items a checklist starts with: the playbook's full pre-deployment checklist, or a team's own file. A custom
/// template is JSON — <c>{"name": "...", "items": [{"name": "security-review", "title": "...", "section": "...",
/// "check": "approval"}]}</c> where check is approval (default), rollback-in-staging, staging-rollout or alert-rules —
/// and is validated whole before anything is written.
/// </summary>
public sealed class ChecklistTemplate
{
    public const string PlaybookName = "Playbook";

    private static readonly Regex ItemName = new("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant);

    private static readonly Dictionary<string, ChecklistEvidence> Checks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["approval"] = ChecklistEvidence.Approval,
        ["rollback-in-staging"] = ChecklistEvidence.RollbackInStaging,
        ["staging-rollout"] = ChecklistEvidence.StagingRollout,
        ["alert-rules"] = ChecklistEvidence.AlertRules,
    };

    public required string Name { get; init; }

    public required IReadOnlyList<ChecklistItemDefinition> Items { get; init; }

    /// <summary>
    /// The playbook's "Pre-deployment Checklist", every item in its order and sections, plus "staging validated" (its
    /// Phase 1 ends with the feature validated in staging), which the ledger can prove.
    /// </summary>
    public static ChecklistTemplate Playbook { get; } = new()
    {
        Name = PlaybookName,
        Items = new[]
        {
            Item("configuration-reviewed", "Feature flag configuration reviewed and approved", Technical),
            Item("migrations-tested", "Database migrations tested and validated", Technical),
            Item("rollback-tested-in-staging", "Rollback procedures tested in staging", Technical, ChecklistEvidence.RollbackInStaging),
            Item("staging-validated", "Feature validated in staging (a completed rollout)", Technical, ChecklistEvidence.StagingRollout),
            Item("performance-assessed", "Performance impact assessed", Technical),
            Item("security-review", "Security review completed", Technical),
            Item("hipaa-compliance", "HIPAA compliance verified", Technical),
            Item("alerts-configured", "Monitoring alerts configured", Operational, ChecklistEvidence.AlertRules),
            Item("rollback-plan-approved", "Rollback plan documented and approved", Operational),
            Item("notifications-prepared", "Team notifications prepared", Operational),
            Item("maintenance-window", "Maintenance window scheduled (if required)", Operational),
            Item("backup-verified", "Backup verification completed", Operational),
            Item("feature-docs-updated", "Feature documentation updated", Documentation),
            Item("api-docs-updated", "API documentation updated (if applicable)", Documentation),
            Item("training-materials-prepared", "User training materials prepared", Documentation),
            Item("support-briefed", "Support team briefed", Documentation),
        },
    };

    private const string Technical = "Technical Validation";
    private const string Operational = "Operational Readiness";
    private const string Documentation = "Documentation";

    /// <summary>"Playbook" (any case), or the path of a template file; ChecklistTemplateUnknown or ChecklistTemplateInvalid otherwise.</summary>
    public static ChecklistTemplate Resolve(string? nameOrPath)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath) || string.Equals(nameOrPath, PlaybookName, StringComparison.OrdinalIgnoreCase))
        {
            return Playbook;
        }

        if (!File.Exists(nameOrPath))
        {
            throw new FlagsException("ChecklistTemplateUnknown", FlagsErrorKind.ObjectNotFound, $"'{nameOrPath}' is neither the Playbook template nor a template file. Pass -Template Playbook, or the path of a JSON template (see about_PMS.Flags_Rollouts).", nameOrPath);
        }

        string text;
        try
        {
            text = File.ReadAllText(nameOrPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Invalid(nameOrPath, $"it cannot be read ({ex.Message})", ex);
        }

        return Parse(text, nameOrPath);
    }

    public static ChecklistTemplate Parse(string json, string source)
    {
        JObject root;
        try
        {
            root = JObject.Parse(json, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error });
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"it is not a JSON object ({ex.Message})", ex);
        }

        var name = root["name"]?.Type == JTokenType.String ? (string?)root["name"] : null;
        if (string.IsNullOrWhiteSpace(name))
        {
            throw Invalid(source, "it has no \"name\"");
        }

        if (root["items"] is not JArray array || array.Count == 0)
        {
            throw Invalid(source, "it has no \"items\" array with at least one item");
        }

        var items = new List<ChecklistItemDefinition>();
        foreach (var (token, index) in array.Select((t, i) => (t, i + 1)))
        {
            if (token is not JObject o)
            {
                throw Invalid(source, $"item {index} is not an object");
            }

            var unknown = o.Properties().Select(p => p.Name).FirstOrDefault(p => p is not ("name" or "title" or "section" or "check"));
            if (unknown is not null)
            {
                throw Invalid(source, $"item {index} has an unknown field \"{unknown}\" (allowed: name, title, section, check)");
            }

            var itemName = o["name"]?.Type == JTokenType.String ? (string?)o["name"] : null;
            if (itemName is null || !ItemName.IsMatch(itemName))
            {
                throw Invalid(source, $"item {index} needs a \"name\" of lower-case letters, digits and dashes (got '{itemName}')");
            }

            var title = o["title"]?.Type == JTokenType.String ? (string?)o["title"] : null;
            if (string.IsNullOrWhiteSpace(title))
            {
                throw Invalid(source, $"item '{itemName}' has no \"title\"");
            }

            var check = o["check"]?.Type == JTokenType.String ? (string?)o["check"] : o["check"] is null ? "approval" : null;
            if (check is null || !Checks.TryGetValue(check, out var evidence))
            {
                throw Invalid(source, $"item '{itemName}' has an unknown \"check\" '{o["check"]}' (known: {string.Join(", ", Checks.Keys)})");
            }

            if (items.Any(i => i.Name == itemName))
            {
                throw Invalid(source, $"the item name '{itemName}' appears twice");
            }

            items.Add(new ChecklistItemDefinition { Name = itemName, Title = title!, Section = (string?)o["section"] ?? "", Evidence = evidence });
        }

        return new ChecklistTemplate { Name = name!, Items = items };
    }

    public JArray ItemsToJson() => new(Items.Select(i => new JObject
    {
        ["name"] = i.Name,
        ["title"] = i.Title,
        ["section"] = i.Section,
        ["check"] = Checks.First(c => c.Value == i.Evidence).Key,
    }));

    /// <summary>Reads the items a checklist_created event recorded, so a checklist is evaluated against the template it was made with.</summary>
    public static ChecklistTemplate FromRecorded(string name, JArray items) => Parse(new JObject { ["name"] = name, ["items"] = items }.ToString(Formatting.None), "the ledger");

    private static ChecklistItemDefinition Item(string name, string title, string section, ChecklistEvidence evidence = ChecklistEvidence.Approval)
        => new() { Name = name, Title = title, Section = section, Evidence = evidence };

    private static FlagsException Invalid(string source, string why, Exception? inner = null)
        => new("ChecklistTemplateInvalid", FlagsErrorKind.InvalidData, $"The checklist template '{source}' cannot be used: {why}. Nothing was written.", source, inner);
}
