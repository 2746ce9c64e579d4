namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A part of the ledger that a decision depends on: the events of one rollout, or of one flag in one environment.
/// Writers of unrelated streams on one shared ledger never conflict with each other.
/// </summary>
public sealed class LedgerStream
{
    private LedgerStream(string? rolloutId, string? flag, string? environment)
    {
        RolloutId = rolloutId;
        Flag = flag;
        Environment = environment;
    }

    public string? RolloutId { get; }

    public string? Flag { get; }

    public string? Environment { get; }

    /// <summary>A stable key: <c>rollout:&lt;id&gt;</c> or <c>flag:&lt;environment&gt;/&lt;flag&gt;</c> (lower case, as matching ignores case).</summary>
    public string Key => RolloutId is not null ? $"rollout:{RolloutId.ToLowerInvariant()}" : $"flag:{Environment!.ToLowerInvariant()}/{Flag!.ToLowerInvariant()}";

    public static LedgerStream Rollout(string rolloutId) => new(rolloutId, null, null);

    public static LedgerStream FlagIn(string flag, string environment) => new(null, flag, environment);

    /// <summary>The query that reads exactly this stream's events.</summary>
    public AuditQuery Query => RolloutId is not null ? new AuditQuery { RolloutId = RolloutId } : new AuditQuery { Flag = Flag, Environment = Environment };

    public bool Contains(AuditEvent e) => Query.Matches(e);

    public override string ToString() => Key;
}
