using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Flag changes with their audit: validate, make sure the change can be audited, change, record.
/// Switching a flag off is the exception to "audit first": it stops harm, so it never waits for the ledger.
/// </summary>
public sealed class FlagOperations
{
    public const string ToggledEventType = "feature_flag_toggled";
    private readonly IFlagStore store;
    private readonly AuditTrail audit;
    private readonly TimeProvider time;

    /// <param name="time">
    /// The clock that stamps audit events. A rollout folds its bake time from these timestamps, so the rollout engine
    /// passes its own (injectable) clock; everything else gets the system clock.
    /// </param>
    public FlagOperations(IFlagStore store, AuditTrail audit, TimeProvider? time = null)
    {
        this.store = store;
        this.audit = audit;
        this.time = time ?? TimeProvider.System;
    }

    public static void Validate(IFlagStore store, FlagMutation mutation)
    {
        if (string.IsNullOrWhiteSpace(mutation.Flag))
        {
            throw new FlagsException("FlagRequired", FlagsErrorKind.InvalidArgument, "A flag key is required.");
        }

        if (string.IsNullOrWhiteSpace(mutation.Environment))
        {
            throw new FlagsException("EnvironmentRequired", FlagsErrorKind.InvalidArgument, "An environment is required: pass -Environment or connect the store with a default environment.");
        }

        if (string.IsNullOrWhiteSpace(mutation.Reason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "A reason is required for every flag change; it goes into the audit record.", mutation.Flag);
        }

        // Switching off stops harm and is never held up by paperwork; every other production change needs its ticket.
        if (mutation.Kind != FlagChangeKind.TurnOff && string.IsNullOrWhiteSpace(mutation.ApprovalTicket) && IsProtected(store, mutation.Environment))
        {
            throw new FlagsException("ApprovalTicketRequired", FlagsErrorKind.PermissionDenied, $"Changes in '{mutation.Environment}' require -ApprovalTicket.", mutation.Flag);
        }

        if (mutation.Kind == FlagChangeKind.SetPercentage && mutation.Percentage is null)
        {
            throw new FlagsException("PercentageRequired", FlagsErrorKind.InvalidArgument, "A percentage is required.", mutation.Flag);
        }
    }

    public static bool IsProtected(IFlagStore store, string environment)
        => store.ProtectedEnvironments.Contains(environment, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The percentage the flag last had while on in the environment, as the ledger recorded it (the newest event that
    /// knows it: a change to on, or a change away from on); null when the ledger knows none. Enable-Flag restores this:
    /// a document that says plain <c>false</c> no longer holds it.
    /// </summary>
    public decimal? LastOnPercentage(string flag, string environment, CancellationToken cancellationToken)
    {
        decimal? last = null;
        var query = new AuditQuery { Flag = flag, Environment = environment, EventTypes = new[] { ToggledEventType } };
        foreach (var e in audit.Ledger.Read(query, cancellationToken))
        {
            if (e.NewState == true && e.RolloutPercentage is > 0)
            {
                last = e.RolloutPercentage;
            }
            else if (e.PreviousState == true && e.PreviousPercentage is > 0)
            {
                last = e.PreviousPercentage;
            }
        }

        return last;
    }

    public Task<FlagChangeResult> PreviewAsync(FlagMutation mutation, CancellationToken cancellationToken)
    {
        Validate(store, mutation);
        return store.PreviewAsync(mutation.ToChange(), cancellationToken);
    }

    public async Task<FlagChangeRecord> ChangeAsync(FlagMutation mutation, CancellationToken cancellationToken)
    {
        Validate(store, mutation);
        if (mutation.Kind != FlagChangeKind.TurnOff)
        {
            audit.EnsureWritable();
        }

        audit.Log.Verbose($"Asking {store.Name} to {mutation.ToChange()}.");
        var result = await store.ApplyAsync(mutation.ToChange(), cancellationToken).ConfigureAwait(false);
        var record = await audit.RecordAsync(ToggledEvent(mutation, result, null), CancellationToken.None).ConfigureAwait(false);
        return ToRecord(mutation, result, record);
    }

    public AuditEvent ToggledEvent(FlagMutation mutation, FlagChangeResult result, JObject? details)
    {
        details ??= new JObject();
        details["change"] = mutation.Kind.ToString();
        if (mutation.Percentage is { } requested)
        {
            details["requested_percentage"] = requested;
        }

        if (result.Current.Version is not null)
        {
            details["store_version"] = result.Current.Version;
        }

        return new AuditEvent
        {
            Timestamp = time.GetUtcNow(),
            EventType = ToggledEventType,
            UserId = mutation.User,
            FeatureFlag = mutation.Flag,
            PreviousState = result.Previous?.On,
            NewState = result.Current.On,
            Environment = mutation.Environment,
            Reason = mutation.Reason,
            RolloutPercentage = result.Current.EffectivePercentage,
            ApprovalTicket = mutation.ApprovalTicket,
            RolloutId = mutation.RolloutId,
            Store = store.Name,
            PreviousPercentage = result.Previous?.EffectivePercentage,
            Outcome = result.Changed ? "applied" : "unchanged",
            Details = details.ToString(Newtonsoft.Json.Formatting.None),
        };
    }

    public FlagChangeRecord ToRecord(FlagMutation mutation, FlagChangeResult result, AuditRecord? record) => new()
    {
        Flag = mutation.Flag,
        Environment = mutation.Environment,
        On = result.Current.On,
        Percentage = result.Current.Percentage,
        PreviousOn = result.Previous?.On,
        PreviousPercentage = result.Previous?.Percentage,
        Changed = result.Changed,
        Store = store.Name,
        Version = result.Current.Version,
        Timestamp = record?.Event.Timestamp ?? DateTimeOffset.UtcNow,
        User = mutation.User,
        Reason = mutation.Reason,
        ApprovalTicket = mutation.ApprovalTicket,
        AuditSequence = record?.Sequence,
        AuditSpooled = record?.Spooled ?? false,
    };
}
