using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// The playbook's "Communication Templates" (Pre-rollout and Rollback) and a completion message in the same voice.
/// Placeholders are written as the playbook writes them, <c>[NAME]</c>; the playbook's per-stage timeline lines are one
/// placeholder, <c>[TIMELINE]</c>, because their number follows the plan. <c>[PMS]</c> and <c>[URGENT]</c> are the
/// playbook's subject tags and stay as they are. The first line is the subject (<c>Subject: …</c>).
/// </summary>
public static class NotificationTemplates
{
    public const string PreRollout = "PreRollout";
    public const string Rollback = "Rollback";
    public const string RolloutComplete = "RolloutComplete";

    public static IReadOnlyList<string> Names { get; } = new[] { PreRollout, Rollback, RolloutComplete };

    /// <summary>Subject tags of the playbook that look like placeholders but are text.</summary>
    public static IReadOnlyList<string> LiteralTags { get; } = new[] { "PMS", "URGENT" };

    public static string Text(string template) => Canonical(template) switch
    {
        PreRollout => """
            Subject: [PMS] Feature Rollout Starting: [FEATURE_NAME]

            Team,

            We are beginning the gradual rollout of [FEATURE_NAME] to [ENVIRONMENT].

            Timeline:
            [TIMELINE]

            Monitoring: [DASHBOARD_LINK]
            Rollback contact: [CONTACT_INFO]

            Please monitor support channels for any issues.
            """,
        Rollback => """
            Subject: [URGENT] [PMS] Feature Rollback: [FEATURE_NAME]

            Team,

            [FEATURE_NAME] has been rolled back due to [REASON].

            Actions taken:
            - Feature disabled at [TIME]
            [ADDITIONAL_ACTIONS]

            Current status: [STATUS]
            Next steps: [NEXT_STEPS]

            Incident ticket: [TICKET_LINK]
            """,
        _ => """
            Subject: [PMS] Feature Rollout Complete: [FEATURE_NAME]

            Team,

            The gradual rollout of [FEATURE_NAME] to [ENVIRONMENT] is complete: it now reaches 100% of users.

            Timeline:
            [TIMELINE]

            Monitoring: [DASHBOARD_LINK]
            Rollback contact: [CONTACT_INFO]

            Please keep monitoring support channels for any issues.
            """,
    };

    public static string Canonical(string? template)
        => Names.FirstOrDefault(n => string.Equals(n, template?.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new FlagsException("NotificationTemplateUnknown", FlagsErrorKind.InvalidArgument, $"There is no notification template '{template}'. Templates: {string.Join(", ", Names)}; or pass -TemplatePath with a team's own.", template);
}
