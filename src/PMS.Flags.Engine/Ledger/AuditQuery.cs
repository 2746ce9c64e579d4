namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Filters for reading the trail; every one is optional and they combine with AND. Then the page: the matching events
/// in sequence order (newest first with <see cref="Newest"/>), less the first <see cref="Skip"/>, at most
/// <see cref="First"/> (or <see cref="Newest"/>) of them.
/// </summary>
public sealed class AuditQuery
{
    public static readonly AuditQuery All = new();

    public string? Flag { get; init; }

    public string? Environment { get; init; }

    public IReadOnlyCollection<string>? EventTypes { get; init; }

    public string? User { get; init; }

    public string? RolloutId { get; init; }

    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    /// <summary>A keyset cursor: only events with a greater sequence (the last sequence of the previous page), cheap at any depth.</summary>
    public long? AfterSequence { get; init; }

    /// <summary>The oldest N of the page.</summary>
    public int? First { get; init; }

    /// <summary>The newest N of the page, newest first. Not with <see cref="First"/>.</summary>
    public int? Newest { get; init; }

    /// <summary>Passes over the first N events of the page (the oldest, or with <see cref="Newest"/> the newest).</summary>
    public int? Skip { get; init; }

    /// <summary>How many events the page may hold at most (First or Newest), or null for all.</summary>
    public int? Limit => First ?? Newest;

    public bool Matches(AuditEvent e)
        => (Flag is null || string.Equals(e.FeatureFlag, Flag, StringComparison.OrdinalIgnoreCase))
        && (Environment is null || string.Equals(e.Environment, Environment, StringComparison.OrdinalIgnoreCase))
        && (EventTypes is null || EventTypes.Count == 0 || EventTypes.Contains(e.EventType, StringComparer.OrdinalIgnoreCase))
        && (User is null || string.Equals(e.UserId, User, StringComparison.OrdinalIgnoreCase))
        && (RolloutId is null || string.Equals(e.RolloutId, RolloutId, StringComparison.OrdinalIgnoreCase))
        && (Since is null || e.Timestamp >= Since)
        && (Until is null || e.Timestamp <= Until)
        && (AfterSequence is null || e.Sequence > AfterSequence);
}
