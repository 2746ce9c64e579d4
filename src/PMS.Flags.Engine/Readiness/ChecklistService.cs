using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// The pre-deployment checklist of a flag in one environment, kept entirely in the ledger (the flag's stream there):
/// create it from a template, approve its items, and evaluate it. Approvals go through the shared decide-and-append
/// loop, so two people approving at once cannot both approve one item, and four-eyes is decided on what the ledger holds.
/// </summary>
public sealed class ChecklistService
{
    /// <summary>Where "rollback tested in staging" and "staging validated" look for their evidence.</summary>
    public const string StagingEnvironment = "staging";

    private const int MaxAttempts = 5;
    private readonly IFlagStore store;
    private readonly AuditTrail audit;
    private readonly AlertRuleEvidence alertRules;
    private readonly StreamDecisionLoop loop;

    public ChecklistService(IFlagStore store, AuditTrail audit, AlertRuleEvidence? alertRules = null)
    {
        this.store = store;
        this.audit = audit;
        this.alertRules = alertRules ?? new AlertRuleEvidence();
        audit.ProtectedEnvironments ??= store.ProtectedEnvironments;
        loop = new StreamDecisionLoop(audit, MaxAttempts);
    }

    /// <summary>Records a new checklist (replacing any earlier one of the flag there) and returns its first evaluation.</summary>
    public async Task<ReadinessReport> CreateAsync(string flag, string environment, ChecklistTemplate template, PlanFingerprint? plan, string user, string? reason, CancellationToken cancellationToken)
    {
        RequireNames(flag, environment);
        var fourEyes = FlagOperations.IsProtected(store, environment);
        var details = new JObject
        {
            ["template"] = template.Name,
            ["items"] = template.ItemsToJson(),
            ["four_eyes"] = fourEyes,
            ["plan"] = plan?.Canonical,
            ["plan_hash"] = plan?.Hash,
        };
        var draft = new AuditEvent
        {
            EventType = ChecklistEventTypes.Created,
            UserId = user,
            FeatureFlag = flag,
            Environment = environment,
            Reason = string.IsNullOrWhiteSpace(reason) ? $"Pre-deployment checklist ({template.Name}, {template.Items.Count} items)" : reason,
            Details = details.ToString(Newtonsoft.Json.Formatting.None),
        };
        await loop.RunAsync<ChecklistFold, AuditEvent>(
            LedgerStream.FlagIn(flag, environment),
            ct => FoldAsync(flag, environment, ct),
            _ => Task.FromResult(StreamDecision<AuditEvent>.Append(new[] { draft }, stored => Task.FromResult(stored[0]))),
            false,
            () => Busy(flag, environment),
            cancellationToken).ConfigureAwait(false);
        audit.Log.Verbose($"Created the {template.Name} checklist of {flag} in {environment} with {template.Items.Count} items{(fourEyes ? "; four-eyes: its creator cannot approve its items" : "")}.");
        return await EvaluateAsync(flag, environment, plan, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records one approval with its evidence, after checking that the item exists, is approved by a person (not
    /// checked from the ledger), is not approved yet, is not approved by the checklist's creator under four-eyes, and,
    /// for alert rules, that the evidence really holds alert rules. Any refusal writes nothing.
    /// </summary>
    public async Task<ChecklistItemStatus> ApproveAsync(string flag, string environment, string item, string evidence, string user, string? reason, string? ticket, CancellationToken cancellationToken)
    {
        RequireNames(flag, environment);
        if (string.IsNullOrWhiteSpace(evidence))
        {
            throw new FlagsException("ChecklistEvidenceRequired", FlagsErrorKind.InvalidArgument, $"Approving '{item}' needs -Evidence: a sentence, a ticket or document URI, or (for alert rules) the rule file or Prometheus URI.", item);
        }

        var stored = await loop.RunAsync<ChecklistFold, AuditEvent>(
            LedgerStream.FlagIn(flag, environment),
            ct => FoldAsync(flag, environment, ct),
            fold => DecideApprovalAsync(fold, flag, environment, item, evidence, user, reason, ticket, cancellationToken),
            false,
            () => Busy(flag, environment),
            cancellationToken).ConfigureAwait(false);
        var report = await EvaluateAsync(flag, environment, null, cancellationToken).ConfigureAwait(false);
        audit.Log.Verbose($"Recorded the approval of {item} by {user} as #{stored.Sequence}.");
        return report.Items.First(i => string.Equals(i.Item, item, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Every item's state now; with <paramref name="plan"/>, approvals of a checklist made for another plan are void.</summary>
    public async Task<ReadinessReport> EvaluateAsync(string flag, string environment, PlanFingerprint? plan, CancellationToken cancellationToken)
    {
        RequireNames(flag, environment);
        var (fold, _) = await FoldAsync(flag, environment, cancellationToken).ConfigureAwait(false);
        if (fold.Created is null || fold.Template is null)
        {
            return new ReadinessReport { Flag = flag, Environment = environment };
        }

        var planChanges = plan is not null && fold.Plan is not null ? fold.Plan.Differences(plan) : Array.Empty<string>();
        var staging = await ReadStagingAsync(flag, cancellationToken).ConfigureAwait(false);
        var items = new List<ChecklistItemStatus>();
        foreach (var definition in fold.Template.Items)
        {
            items.Add(await StatusAsync(fold, definition, flag, environment, planChanges, staging, cancellationToken).ConfigureAwait(false));
        }

        return new ReadinessReport
        {
            Flag = flag,
            Environment = environment,
            ChecklistId = fold.Id,
            Template = fold.Template.Name,
            CreatedBy = fold.Created.UserId,
            CreatedAt = fold.Created.Timestamp,
            FourEyes = fold.FourEyes,
            PlanHash = fold.Plan?.Hash,
            PlanChanges = planChanges,
            Items = items,
        };
    }

    private async Task<StreamDecision<AuditEvent>> DecideApprovalAsync(ChecklistFold fold, string flag, string environment, string item, string evidence, string user, string? reason, string? ticket, CancellationToken cancellationToken)
    {
        if (fold.Created is null || fold.Template is null)
        {
            throw fold.NotFound(flag, environment);
        }

        var definition = fold.Template.Items.FirstOrDefault(i => string.Equals(i.Name, item, StringComparison.OrdinalIgnoreCase))
            ?? throw new FlagsException("ChecklistItemUnknown", FlagsErrorKind.ObjectNotFound, $"The checklist of {flag} in {environment} has no item '{item}'. Its items: {string.Join(", ", fold.Template.Items.Select(i => i.Name))}.", item);
        if (definition.Evidence is ChecklistEvidence.RollbackInStaging or ChecklistEvidence.StagingRollout)
        {
            throw new FlagsException("ChecklistItemNotApprovable", FlagsErrorKind.InvalidOperation, $"'{definition.Name}' is checked from the ledger, not approved: {Requirement(definition.Evidence, flag)}.", definition.Name);
        }

        if (fold.ApprovalOf(definition.Name) is { } earlier)
        {
            throw new FlagsException("ChecklistItemAlreadyApproved", FlagsErrorKind.InvalidOperation, $"'{definition.Name}' was already approved by {earlier.UserId} at {earlier.Timestamp:u} (#{earlier.Sequence}). An approval is not repeated; New-FlagChecklist starts a new checklist.", definition.Name);
        }

        if (fold.FourEyes && string.Equals(fold.Created.UserId, user, StringComparison.OrdinalIgnoreCase))
        {
            throw new FlagsException("ChecklistFourEyesViolation", FlagsErrorKind.PermissionDenied, $"{user} created this checklist of {flag} in {environment}, a protected environment: its items must be approved by someone else (four-eyes).", definition.Name);
        }

        var details = new JObject { ["checklist_id"] = fold.Id, ["item"] = definition.Name, ["evidence"] = evidence };
        if (definition.Evidence is ChecklistEvidence.AlertRules)
        {
            AlertRuleEvidence.ValidateShape(evidence);
            var (holds, detail) = await alertRules.CheckAsync(evidence, cancellationToken).ConfigureAwait(false);
            if (!holds)
            {
                throw new FlagsException("ChecklistEvidenceMissing", FlagsErrorKind.InvalidData, $"'{definition.Name}' cannot be approved: {detail}.", definition.Name);
            }

            details["evidence_check"] = detail;
        }

        var draft = new AuditEvent
        {
            EventType = ChecklistEventTypes.ItemApproved,
            UserId = user,
            FeatureFlag = flag,
            Environment = environment,
            Reason = string.IsNullOrWhiteSpace(reason) ? $"Approved: {definition.Title}" : reason,
            ApprovalTicket = string.IsNullOrWhiteSpace(ticket) ? null : ticket,
            Details = details.ToString(Newtonsoft.Json.Formatting.None),
        };
        return StreamDecision<AuditEvent>.Append(new[] { draft }, stored => Task.FromResult(stored[0]));
    }

    private async Task<ChecklistItemStatus> StatusAsync(ChecklistFold fold, ChecklistItemDefinition definition, string flag, string environment, IReadOnlyList<string> planChanges, IReadOnlyList<AuditEvent> staging, CancellationToken cancellationToken)
    {
        ChecklistItemStatus Status(ChecklistItemState state, string detail, AuditEvent? approval = null) => new()
        {
            Flag = flag,
            Environment = environment,
            Item = definition.Name,
            Title = definition.Title,
            Section = definition.Section,
            Evidence = definition.Evidence,
            State = state,
            ApprovedBy = approval?.UserId,
            ApprovedAt = approval?.Timestamp,
            EvidenceText = approval is null ? null : (string?)ChecklistFold.Details(approval)["evidence"],
            Detail = detail,
        };

        if (definition.Evidence is ChecklistEvidence.RollbackInStaging or ChecklistEvidence.StagingRollout)
        {
            var proof = staging.LastOrDefault(e => Proves(definition.Evidence, e));
            return proof is null
                ? Status(ChecklistItemState.Missing, $"not in the ledger: {Requirement(definition.Evidence, flag)}")
                : Status(ChecklistItemState.Checked, $"the ledger shows {proof.EventType} #{proof.Sequence} at {proof.Timestamp:u} by {proof.UserId}");
        }

        var approval = fold.ApprovalOf(definition.Name);
        if (approval is null)
        {
            return Status(ChecklistItemState.Pending, "not approved yet");
        }

        if (planChanges.Count > 0)
        {
            return Status(ChecklistItemState.Void, $"approved for another plan; changed: {string.Join("; ", planChanges)}", approval);
        }

        if (definition.Evidence is ChecklistEvidence.AlertRules)
        {
            var (holds, detail) = await alertRules.CheckAsync((string?)ChecklistFold.Details(approval)["evidence"] ?? "", cancellationToken).ConfigureAwait(false);
            return Status(holds ? ChecklistItemState.Approved : ChecklistItemState.Missing, holds ? detail : $"approved, but {detail}", approval);
        }

        return Status(ChecklistItemState.Approved, $"approved by {approval.UserId} at {approval.Timestamp:u}", approval);
    }

    private static bool Proves(ChecklistEvidence evidence, AuditEvent e) => evidence switch
    {
        ChecklistEvidence.StagingRollout => e.EventType == RolloutEventTypes.Completed,
        ChecklistEvidence.RollbackInStaging => e.EventType is EmergencyRollback.EventType or RolloutEventTypes.RolledBack
            || (e.EventType == FlagOperations.ToggledEventType && e.PreviousState == true && e.NewState == false),
        _ => false,
    };

    private static string Requirement(ChecklistEvidence evidence, string flag) => evidence switch
    {
        ChecklistEvidence.StagingRollout => $"a completed rollout of {flag} in {StagingEnvironment} (Start-FlagRollout -Environment {StagingEnvironment})",
        _ => $"a rollback of {flag} in {StagingEnvironment}: Invoke-EmergencyRollback, a rolled-back rollout, or Disable-Flag of the flag while on",
    };

    private async Task<IReadOnlyList<AuditEvent>> ReadStagingAsync(string flag, CancellationToken cancellationToken)
        => await audit.Ledger.ReadListAsync(
            new AuditQuery
            {
                Flag = flag,
                Environment = StagingEnvironment,
                EventTypes = new[] { RolloutEventTypes.Completed, RolloutEventTypes.RolledBack, EmergencyRollback.EventType, FlagOperations.ToggledEventType },
            },
            cancellationToken).ConfigureAwait(false);

    private async Task<(ChecklistFold, long)> FoldAsync(string flag, string environment, CancellationToken cancellationToken)
    {
        var head = await audit.Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        var events = await audit.Ledger.ReadListAsync(new AuditQuery { Flag = flag, Environment = environment, EventTypes = ChecklistEventTypes.Checklist.ToArray() }, cancellationToken).ConfigureAwait(false);
        return (ChecklistFold.From(events.Where(e => e.Sequence <= head || head == 0)), head);
    }

    private static void RequireNames(string flag, string environment)
    {
        if (string.IsNullOrWhiteSpace(flag))
        {
            throw new FlagsException("FlagRequired", FlagsErrorKind.InvalidArgument, "A flag key is required.");
        }

        if (string.IsNullOrWhiteSpace(environment))
        {
            throw new FlagsException("EnvironmentRequired", FlagsErrorKind.InvalidArgument, "An environment is required: pass -Environment or connect the store with a default environment.");
        }
    }

    private static FlagsException Busy(string flag, string environment)
        => new("ChecklistBusy", FlagsErrorKind.ResourceUnavailable, $"Other writers kept changing the checklist of {flag} in {environment}; nothing was recorded. Try again.", flag);
}
