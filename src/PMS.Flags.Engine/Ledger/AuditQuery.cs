namespace PMS.Flags.Engine.Ledger;

/// <summary>Filters for reading the trail; every one is optional and they combine with AND.</summary>
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

    public int? First { get; init; }

    public bool Matches(AuditEvent e)
        => (Flag is null || string.Equals(e.FeatureFlag, Flag, StringComparison.OrdinalIgnoreCase))
        && (Environment is null || string.Equals(e.Environment, Environment, StringComparison.OrdinalIgnoreCase))
        && (EventTypes is null || EventTypes.Count == 0 || EventTypes.Contains(e.EventType, StringComparer.OrdinalIgnoreCase))
        && (User is null || string.Equals(e.UserId, User, StringComparison.OrdinalIgnoreCase))
        && (RolloutId is null || string.Equals(e.RolloutId, RolloutId, StringComparison.OrdinalIgnoreCase))
        && (Since is null || e.Timestamp >= Since)
        && (Until is null || e.Timestamp <= Until);
}
