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

    /// <summary>Recorded after <see cref="ToggledEventType"/> by stores whose changes go live later (<see cref="IFlagStore.PropagatesLater"/>).</summary>
    public const string PropagatedEventType = "feature_flag_propagated";
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
            await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        }

        audit.Log.Verbose($"Asking {store.Name} to {mutation.ToChange()}.");
        FlagChangeResult result;
        try
        {
            result = await store.ApplyAsync(mutation.ToChange(), cancellationToken).ConfigureAwait(false);
        }
        catch (FlagsException ex) when (ex.ChangeWasMade || ex.ChangeMayHaveBeenMade)
        {
            throw await RecordUncertainAsync(mutation, ex, null).ConfigureAwait(false);
        }

        var pending = store.PropagatesLater && result.Changed;
        var record = await audit.RecordAsync(ToggledEvent(mutation, result, pending ? new JObject { ["propagation"] = "pending" } : null), CancellationToken.None).ConfigureAwait(false);
        if (pending)
        {
            await AwaitPropagationAsync(mutation, result, record, cancellationToken).ConfigureAwait(false);
        }

        return ToRecord(mutation, result, record);
    }

    /// <summary>
    /// A store error that says the change was made (<c>applied_unconfirmed</c>) or may have been (<c>unknown</c>): the
    /// event is recorded before the error reaches the user, and the error says which outcome was recorded and where.
    /// </summary>
    public async Task<FlagsException> RecordUncertainAsync(FlagMutation mutation, FlagsException failure, JObject? details)
    {
        var outcome = UncertainOutcome(failure);
        details ??= new JObject();
        details["change"] = mutation.Kind.ToString();
        details["error_id"] = failure.ErrorId;
        details["error"] = failure.Message;
        if (mutation.Percentage is { } requested)
        {
            details["requested_percentage"] = requested;
        }

        var draft = new AuditEvent
        {
            Timestamp = time.GetUtcNow(),
            EventType = ToggledEventType,
            UserId = mutation.User,
            FeatureFlag = mutation.Flag,
            NewState = failure.ChangeWasMade ? mutation.Kind != FlagChangeKind.TurnOff : null,
            Environment = mutation.Environment,
            Reason = mutation.Reason,
            RolloutPercentage = failure.ChangeWasMade ? mutation.Kind switch { FlagChangeKind.TurnOff => 0m, FlagChangeKind.TurnOn => null, _ => mutation.Percentage } : null,
            ApprovalTicket = mutation.ApprovalTicket,
            RolloutId = mutation.RolloutId,
            Store = store.Identity,
            Outcome = outcome,
            Details = details.ToString(Newtonsoft.Json.Formatting.None),
        };
        var record = await audit.RecordAsync(draft, CancellationToken.None).ConfigureAwait(false);
        var where = record.Spooled ? $"spooled to '{record.SpoolPath}'" : $"ledger #{record.Sequence}";
        var meaning = failure.ChangeWasMade ? "the change WAS made" : "the change MAY have been made";
        audit.Log.Warning($"{store.Name}: {meaning}; recorded as '{outcome}' ({where}).");
        return new FlagsException(failure.ErrorId, failure.Kind, $"{failure.Message} Audit: {meaning}; recorded as '{outcome}' ({where}).", failure.Target, failure)
        {
            ChangeWasMade = failure.ChangeWasMade,
            ChangeMayHaveBeenMade = failure.ChangeMayHaveBeenMade,
        };
    }

    public static string UncertainOutcome(FlagsException failure) => failure.ChangeWasMade ? "applied_unconfirmed" : "unknown";

    /// <summary>
    /// The second phase of a store write: wait until users get the change, and record when they did. A rollout's bake
    /// time starts from this event, not from the write. A failed wait is recorded too, then reported.
    /// </summary>
    private async Task AwaitPropagationAsync(FlagMutation mutation, FlagChangeResult result, AuditRecord applied, CancellationToken cancellationToken)
    {
        audit.Log.Verbose($"{store.Name} applied the change; waiting until it has propagated.");
        var details = new JObject { ["applied_sequence"] = applied.Sequence, ["applied_event_id"] = applied.Event.EventId };
        try
        {
            var propagatedAt = await store.WaitForPropagationAsync(result, cancellationToken).ConfigureAwait(false);
            await audit.RecordAsync(PropagatedEvent(mutation, result, "propagated", details, propagatedAt), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            details["error"] = ex.Message;
            await audit.RecordAsync(PropagatedEvent(mutation, result, "failed", details, time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private AuditEvent PropagatedEvent(FlagMutation mutation, FlagChangeResult result, string outcome, JObject details, DateTimeOffset at) => new()
    {
        Timestamp = at,
        EventType = PropagatedEventType,
        UserId = mutation.User,
        FeatureFlag = mutation.Flag,
        NewState = result.Current.On,
        Environment = mutation.Environment,
        Reason = mutation.Reason,
        RolloutPercentage = result.Current.EffectivePercentage,
        ApprovalTicket = mutation.ApprovalTicket,
        RolloutId = mutation.RolloutId,
        Store = store.Identity,
        Outcome = outcome,
        Details = details.ToString(Newtonsoft.Json.Formatting.None),
    };

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
            Store = store.Identity,
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
