using System.Globalization;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// The real values a template is filled with: the pre-rollout timeline from a plan's stages and bake time, and the
/// rollback and completion messages from the ledger's own events (when the flag went off, why, what else was done,
/// whether it was verified, the ticket). Nothing here is typed in by hand except what only a person knows (dashboard,
/// contact, next steps).
/// </summary>
public sealed class NotificationFacts
{
    public const string NotGiven = "(not given)";

    private NotificationFacts(string eventName, string flag, string environment, Dictionary<string, string> values)
    {
        Event = eventName;
        Flag = flag;
        Environment = environment;
        Values = values;
    }

    public string Event { get; }

    public string Flag { get; }

    public string Environment { get; }

    /// <summary>Placeholder name (without brackets) to text.</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>What a person adds: the dashboard, the rollback contact, the next steps after a rollback.</summary>
    public sealed record Extras(string? DashboardLink = null, string? ContactInfo = null, string? NextSteps = null);

    /// <summary>Before (or as) a rollout starts: each stage at its earliest time, start + (stage - 1) bake times.</summary>
    public static NotificationFacts ForPlan(string flag, string environment, IReadOnlyList<decimal> stages, TimeSpan bakeTime, DateTimeOffset start, string? reason, string? ticket, Extras? extras = null)
    {
        var timeline = new List<string> { $"- Start: {NotificationRenderer.Time(start)}" };
        timeline.AddRange(stages.Select((p, i) => $"- {FlagPercentage.Format(p)}% rollout: {NotificationRenderer.Time(start + (bakeTime * i))}"));
        var values = Common(flag, environment, reason, ticket, extras);
        values["TIMELINE"] = string.Join("\n", timeline);
        values["START_TIME"] = NotificationRenderer.Time(start);
        values["TIME"] = NotificationRenderer.Time(start);
        values["STAGES"] = string.Join(" -> ", stages.Select(p => FlagPercentage.Format(p) + "%"));
        values["BAKE_TIME"] = Duration(bakeTime);
        values["PERCENTAGE"] = stages.Count > 0 ? FlagPercentage.Format(stages[0]) + "%" : "";
        values["STATUS"] = "starting";
        return new NotificationFacts("rollout_started", flag, environment, values);
    }

    public static NotificationFacts ForPlan(RolloutPlan plan, DateTimeOffset start, Extras? extras = null)
        => ForPlan(plan.Flag, plan.Environment, plan.Stages, plan.BakeTime, start, plan.Reason, plan.ApprovalTicket, extras);

    /// <summary>A stage change of a running rollout (for annotations and a one-line chat message).</summary>
    public static NotificationFacts ForStage(RolloutState state, DateTimeOffset at, Extras? extras = null)
    {
        var facts = ForPlan(state.Plan, state.StartedAt, extras);
        var values = new Dictionary<string, string>(facts.Values, StringComparer.Ordinal)
        {
            ["PERCENTAGE"] = FlagPercentage.Format(state.Percentage ?? 0) + "%",
            ["TIME"] = NotificationRenderer.Time(at),
            ["STATUS"] = $"stage {state.StageNumber} of {state.StageCount} at {FlagPercentage.Format(state.Percentage ?? 0)}%",
        };
        return new NotificationFacts("stage_advanced", state.Flag, state.Environment, values);
    }

    /// <summary>
    /// From the ledger: the latest rollback of the flag in the environment (an emergency rollback, or a rollout rolled
    /// back or stopped), with the events recorded with it. Null when the ledger holds none.
    /// </summary>
    public static NotificationFacts? ForRollback(IReadOnlyList<AuditEvent> flagEvents, Extras? extras = null)
    {
        var rollback = flagEvents.LastOrDefault(e => e.EventType is EmergencyRollback.EventType or RolloutEventTypes.RolledBack);
        if (rollback is null)
        {
            return null;
        }

        // The emergency rollback's own summary carries the steps; a rollout's rolled-back event comes right after it.
        var summary = rollback.EventType == EmergencyRollback.EventType ? rollback
            : flagEvents.LastOrDefault(e => e.EventType == EmergencyRollback.EventType && Math.Abs((e.Timestamp - rollback.Timestamp).TotalMinutes) < 5) ?? rollback;
        var details = Parse(summary.Details);
        var offAt = Read(details, "flag_off_at") ?? summary.Timestamp;
        var steps = details?["steps"] as JArray ?? new JArray();
        var verified = steps.OfType<JObject>().Any(s => (string?)s["name"] == "Verify" && (string?)s["status"] == "Succeeded");
        var actions = new List<string>();
        foreach (var step in steps.OfType<JObject>())
        {
            var name = (string?)step["name"];
            var status = (string?)step["status"];
            if (name == "Propagate")
            {
                actions.Add($"- Deployment restarted so the pods serve the flag off ({status?.ToLowerInvariant()})");
            }
            else if (name == "Verify" && status == "Succeeded")
            {
                actions.Add("- Flag read back from the store: off");
            }
        }

        foreach (var ended in flagEvents.Where(e => e.EventType == RolloutEventTypes.RolledBack && Math.Abs((e.Timestamp - rollback.Timestamp).TotalMinutes) < 5))
        {
            actions.Add($"- Rollout {ended.RolloutId} ended at {FlagPercentage.Format(ended.PreviousPercentage ?? 0)}% ({ended.Outcome})");
        }

        actions.Add($"- Recorded in the audit ledger (#{summary.Sequence}, {summary.EventType})");
        var values = Common(rollback.FeatureFlag ?? "", rollback.Environment ?? "", rollback.Reason, rollback.ApprovalTicket ?? summary.ApprovalTicket, extras);
        values["TIME"] = NotificationRenderer.Time(offAt);
        values["ADDITIONAL_ACTIONS"] = string.Join("\n", actions);
        values["STATUS"] = verified || summary.Outcome is "succeeded" or "rolled_back" or "aborted"
            ? $"{rollback.FeatureFlag} is OFF in {rollback.Environment}{(verified ? " (verified by reading it back)" : "")}"
            : $"{rollback.FeatureFlag} was switched off in {rollback.Environment}, but the read-back did not confirm it ({summary.Outcome})";
        values["NEXT_STEPS"] = extras?.NextSteps ?? "find the cause before the flag is enabled again; the flag stays off until then";
        values["PERCENTAGE"] = "0%";
        values["TIMELINE"] = $"- Feature disabled at {values["TIME"]}";
        return new NotificationFacts("rollback", values["FEATURE_NAME"], values["ENVIRONMENT"], values);
    }

    /// <summary>From the ledger: the latest completed rollout of the flag, with the time each stage reached users.</summary>
    public static NotificationFacts? ForCompletion(IReadOnlyList<AuditEvent> flagEvents, Extras? extras = null)
    {
        var completed = flagEvents.LastOrDefault(e => e.EventType == RolloutEventTypes.Completed);
        if (completed is null)
        {
            return null;
        }

        var events = flagEvents.Where(e => e.RolloutId == completed.RolloutId).ToArray();
        var started = events.FirstOrDefault(e => e.EventType == RolloutEventTypes.Started) ?? completed;
        var timeline = new List<string> { $"- Start: {NotificationRenderer.Time(started.Timestamp)}" };
        timeline.AddRange(events.Where(e => e.EventType is RolloutEventTypes.Started or RolloutEventTypes.StageAdvanced && e.RolloutPercentage is not null)
            .Select(e => $"- {FlagPercentage.Format(e.RolloutPercentage!.Value)}% rollout: {NotificationRenderer.Time(e.Timestamp)}"));
        timeline.Add($"- Complete: {NotificationRenderer.Time(completed.Timestamp)}");
        var values = Common(completed.FeatureFlag ?? "", completed.Environment ?? "", started.Reason, started.ApprovalTicket, extras);
        values["TIMELINE"] = string.Join("\n", timeline);
        values["START_TIME"] = NotificationRenderer.Time(started.Timestamp);
        values["TIME"] = NotificationRenderer.Time(completed.Timestamp);
        values["PERCENTAGE"] = FlagPercentage.Format(completed.RolloutPercentage ?? 100) + "%";
        values["STATUS"] = "complete";
        values["DURATION"] = Duration(completed.Timestamp - started.Timestamp);
        return new NotificationFacts("rollout_completed", values["FEATURE_NAME"], values["ENVIRONMENT"], values);
    }

    private static Dictionary<string, string> Common(string flag, string environment, string? reason, string? ticket, Extras? extras) => new(StringComparer.Ordinal)
    {
        ["FEATURE_NAME"] = flag,
        ["ENVIRONMENT"] = environment,
        ["REASON"] = string.IsNullOrWhiteSpace(reason) ? NotGiven : reason.Trim(),
        ["TICKET_LINK"] = string.IsNullOrWhiteSpace(ticket) ? "none recorded" : ticket.Trim(),
        ["DASHBOARD_LINK"] = string.IsNullOrWhiteSpace(extras?.DashboardLink) ? NotGiven : extras!.DashboardLink!.Trim(),
        ["CONTACT_INFO"] = string.IsNullOrWhiteSpace(extras?.ContactInfo) ? NotGiven : extras!.ContactInfo!.Trim(),
        ["NEXT_STEPS"] = string.IsNullOrWhiteSpace(extras?.NextSteps) ? NotGiven : extras!.NextSteps!.Trim(),
        ["ADDITIONAL_ACTIONS"] = "",
        ["TIMELINE"] = "",
        ["START_TIME"] = "",
        ["TIME"] = "",
        ["STATUS"] = "",
        ["STAGES"] = "",
        ["BAKE_TIME"] = "",
        ["PERCENTAGE"] = "",
        ["DURATION"] = "",
    };

    private static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{(span.Seconds > 0 ? $"{span.Seconds}s" : "")}" : $"{(int)span.TotalSeconds}s";

    private static JObject? Parse(string? json)
    {
        try
        {
            return json is null ? null : JObject.Parse(json);
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    // Newtonsoft reads ISO strings as dates already; either way the instant is UTC.
    private static DateTimeOffset? Read(JObject? o, string name) => o?[name] switch
    {
        JValue { Value: DateTime date } => new DateTimeOffset(DateTime.SpecifyKind(date.ToUniversalTime(), DateTimeKind.Utc)),
        JValue { Value: DateTimeOffset instant } => instant,
        JValue { Value: string text } when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) => at,
        _ => null,
    };
}
