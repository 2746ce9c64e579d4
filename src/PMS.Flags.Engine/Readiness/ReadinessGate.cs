using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// The production gate: in a protected environment, exposing a flag (starting a rollout, a percentage above 0,
/// switching it on) needs its checklist to pass — for the very plan that was approved — or an explicit override, which
/// is recorded as its own event before the change. Switching off, rollbacks and stopping a rollout never come here.
/// The returned policy goes into the details of every event the change then writes.
/// </summary>
public sealed class ReadinessGate
{
    /// <summary>
    /// "off" switches the gate off for the process (suites and tools written before it). The switch is not silent:
    /// every change it lets through records <c>readiness.verdict = "gate_off"</c> and names the variable.
    /// </summary>
    public const string SwitchVariable = "PMS_FLAGS_READINESS_GATE";

    private readonly IFlagStore store;
    private readonly Func<string, string?> environmentVariables;
    private readonly AuditTrail audit;
    private readonly ChecklistService checklists;

    public ReadinessGate(IFlagStore store, AuditTrail audit, AlertRuleEvidence? alertRules = null, Func<string, string?>? environmentVariables = null)
    {
        this.store = store;
        this.environmentVariables = environmentVariables ?? System.Environment.GetEnvironmentVariable;
        this.audit = audit;
        checklists = new ChecklistService(store, audit, alertRules);
    }

    /// <param name="plan">The rollout's plan (Start-FlagRollout); null for a direct change, which no plan approval binds.</param>
    /// <param name="overrideReason">Non-null with -OverrideReadiness: the reason recorded in the readiness_overridden event.</param>
    /// <returns>The policy in force, for the details of the change's events.</returns>
    public async Task<JObject> EnsureReadyAsync(string flag, string environment, PlanFingerprint? plan, string? overrideReason, string user, string? ticket, CancellationToken cancellationToken)
    {
        if (!FlagOperations.IsProtected(store, environment))
        {
            return new JObject { ["gate"] = "readiness", ["verdict"] = "not_gated", ["why"] = $"{environment} is not a protected environment" };
        }

        if (string.IsNullOrWhiteSpace(ticket))
        {
            throw new FlagsException("ApprovalTicketRequired", FlagsErrorKind.PermissionDenied, $"Changes in '{environment}' require -ApprovalTicket.", flag);
        }

        if (string.Equals(environmentVariables(SwitchVariable), "off", StringComparison.OrdinalIgnoreCase))
        {
            audit.Log.Verbose($"The readiness gate is off ({SwitchVariable}=off); the change records that.");
            return new JObject { ["gate"] = "readiness", ["verdict"] = "gate_off", ["why"] = $"{SwitchVariable}=off" };
        }

        var report = await checklists.EvaluateAsync(flag, environment, plan, cancellationToken).ConfigureAwait(false);
        var policy = new JObject
        {
            ["gate"] = "readiness",
            ["checklist_id"] = report.ChecklistId,
            ["plan_hash"] = plan?.Hash,
            ["approved_plan_hash"] = report.PlanHash,
        };
        if (report.Ready)
        {
            audit.Log.Verbose($"Readiness of {flag} in {environment}: every one of {report.Items.Count} checklist items is satisfied.");
            policy["verdict"] = "ready";
            return policy;
        }

        var missing = report.ChecklistId is null ? new[] { "checklist (none exists)" } : report.Missing.ToArray();
        var planNote = report.PlanChanges.Count > 0 ? $" The approvals are void: the plan differs from the approved one — {string.Join("; ", report.PlanChanges)}." : "";
        if (overrideReason is null)
        {
            throw new FlagsException(
                "FlagNotReady",
                FlagsErrorKind.PermissionDenied,
                $"{flag} is not ready for {environment}: {missing.Length} checklist item(s) missing: {string.Join(", ", missing)}.{planNote} Nothing was changed. Test-FlagReadiness -Flag {flag} -Environment {environment} shows every item; -OverrideReadiness -Reason '...' proceeds anyway and is audited.",
                flag);
        }

        if (string.IsNullOrWhiteSpace(overrideReason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "-OverrideReadiness needs a -Reason; it goes into the readiness_overridden event.", flag);
        }

        policy["verdict"] = "overridden";
        policy["missing"] = new JArray(missing);
        var overridden = new AuditEvent
        {
            EventType = ChecklistEventTypes.ReadinessOverridden,
            UserId = user,
            FeatureFlag = flag,
            Environment = environment,
            Reason = overrideReason,
            ApprovalTicket = ticket,
            Outcome = "overridden",
            Details = new JObject(policy) { ["plan_changes"] = new JArray(report.PlanChanges) }.ToString(Newtonsoft.Json.Formatting.None),
        };

        // Audit first: an override that cannot be recorded is no override, and the change does not happen.
        var stored = await audit.Ledger.AppendAsync(new[] { audit.Stamp(overridden) }, null, false, cancellationToken).ConfigureAwait(false);
        audit.Log.Warning($"Readiness of {flag} in {environment} OVERRIDDEN by {user} ({missing.Length} item(s) missing: {string.Join(", ", missing)}); recorded as #{stored[0].Sequence}.");
        policy["override_event_id"] = stored[0].EventId;
        return policy;
    }
}
