using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>What a decision on a folded stream comes to: a result with nothing to record, or events to append as one unit and what follows.</summary>
internal sealed class StreamDecision<T>
{
    private StreamDecision(IReadOnlyList<AuditEvent> events, Func<IReadOnlyList<AuditEvent>, Task<T>> after)
    {
        Events = events;
        After = after;
    }

    public IReadOnlyList<AuditEvent> Events { get; }

    /// <summary>Runs once the events are durable (or spooled, for decisions that follow a flag-off), with the stored events.</summary>
    public Func<IReadOnlyList<AuditEvent>, Task<T>> After { get; }

    public static StreamDecision<T> Done(T result) => new(Array.Empty<AuditEvent>(), _ => Task.FromResult(result));

    public static StreamDecision<T> Append(IReadOnlyList<AuditEvent> events, Func<IReadOnlyList<AuditEvent>, Task<T>> after) => new(events, after);
}
