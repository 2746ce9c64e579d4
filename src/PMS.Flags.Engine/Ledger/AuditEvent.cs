namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// One audit record. The first ten properties are the playbook's fields (snake_case in the ledger); the rest make the
/// trail tamper-evident and let a rollout be folded from its own events. Sequence, PrevHash and Hash are assigned by the
/// ledger when the event is appended.
/// </summary>
public sealed class AuditEvent
{
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;

    public string EventType { get; init; } = "";

    public string? UserId { get; init; }

    public string? FeatureFlag { get; init; }

    public bool? PreviousState { get; init; }

    public bool? NewState { get; init; }

    public string? Environment { get; init; }

    public string? Reason { get; init; }

    public decimal? RolloutPercentage { get; init; }

    public string? ApprovalTicket { get; init; }

    public string EventId { get; init; } = Guid.NewGuid().ToString("D");

    public long Sequence { get; init; }

    public string? RolloutId { get; init; }

    public string? Store { get; init; }

    public decimal? PreviousPercentage { get; init; }

    public string? Outcome { get; init; }

    /// <summary>Compact JSON: metric evidence, step timings, errors. Null when there is nothing to add.</summary>
    public string? Details { get; init; }

    public string? PrevHash { get; init; }

    public string? Hash { get; init; }

    /// <summary>
    /// True for an event read from the spool (Get-FlagAudit -IncludePending): the change happened, but the event is not
    /// in the ledger yet, so it has no sequence and no hash. Never stored.
    /// </summary>
    public bool Pending { get; init; }

    /// <summary>The flag under the name every other PMS.Flags object uses, so audit events pipe into flag cmdlets.</summary>
    public string? Flag => FeatureFlag;

    public AuditEvent WithChain(long sequence, string? prevHash, string hash) => Copy(sequence, Details, prevHash, hash);

    public AuditEvent WithDetails(string? details) => Copy(Sequence, details, PrevHash, Hash, Pending);

    /// <summary>The same event with one more top-level field in its details.</summary>
    public AuditEvent WithDetail(string name, string value)
    {
        var details = DetailsObject();
        details[name] = value;
        return WithDetails(details.ToString(Newtonsoft.Json.Formatting.None));
    }

    /// <summary>A new, editable copy of the details as an object (empty when there are none or they are not an object).</summary>
    public Newtonsoft.Json.Linq.JObject DetailsObject()
        => Details is null ? new Newtonsoft.Json.Linq.JObject() : AuditEventCodec.ParseJson(Details) as Newtonsoft.Json.Linq.JObject ?? new Newtonsoft.Json.Linq.JObject();

    public AuditEvent AsPending() => Copy(0, Details, null, null, pending: true);

    private AuditEvent Copy(long sequence, string? details, string? prevHash, string? hash, bool pending = false) => new()
    {
        Pending = pending,
        Timestamp = Timestamp,
        EventType = EventType,
        UserId = UserId,
        FeatureFlag = FeatureFlag,
        PreviousState = PreviousState,
        NewState = NewState,
        Environment = Environment,
        Reason = Reason,
        RolloutPercentage = RolloutPercentage,
        ApprovalTicket = ApprovalTicket,
        EventId = EventId,
        Sequence = sequence,
        RolloutId = RolloutId,
        Store = Store,
        PreviousPercentage = PreviousPercentage,
        Outcome = Outcome,
        Details = details,
        PrevHash = prevHash,
        Hash = hash,
    };

    public override string ToString() => $"{(Pending ? "pending" : "#" + Sequence)} {Timestamp:u} {EventType} {FeatureFlag} [{Environment}] by {UserId}";
}
