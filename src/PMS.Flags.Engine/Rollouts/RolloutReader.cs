using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Reads rollouts: folds one rollout's events (the ledger's and those still in the local spool) into its state, finds
/// the active rollouts of a flag, lists them. Every decision starts from a fold made here, so a rollout whose end is
/// only spooled (recorded while the ledger was down) is already over for every decision that follows.
/// </summary>
internal sealed class RolloutReader
{
    private readonly IFlagStore store;
    private readonly AuditTrail audit;

    public RolloutReader(IFlagStore store, AuditTrail audit)
    {
        this.store = store;
        this.audit = audit;
    }

    private ILedger Ledger => audit.Ledger;

    /// <summary>
    /// Folds a rollout as of the ledger head read before its events. Spooled events of the rollout are folded in as
    /// well; one flushed by another process between the read and the peek moved the rollout's stream, so a decision
    /// appended at the head read here conflicts and is folded again.
    /// </summary>
    public async Task<RolloutState> LoadAsync(string rolloutId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(rolloutId))
        {
            throw new FlagsException("RolloutIdRequired", FlagsErrorKind.InvalidArgument, "A rollout id is required.");
        }

        // The head is read BEFORE the events: a decision appended with it fails if anything at all was appended since,
        // including events this read might have missed.
        var head = await Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        var events = await Ledger.ReadListAsync(new AuditQuery { RolloutId = rolloutId }, cancellationToken).ConfigureAwait(false);

        // Events of this rollout still in the local spool (a rollback recorded while the ledger was down) are part of
        // its state: a rollout whose end is spooled has ended, and no advance may be decided on it.
        var recordedIds = events.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        events.AddRange(audit.Spool.Peek(Ledger).Where(e => string.Equals(e.RolloutId, rolloutId, StringComparison.OrdinalIgnoreCase) && !recordedIds.Contains(e.EventId)));
        if (!events.Any(e => e.EventType == RolloutEventTypes.Started))
        {
            throw new FlagsException("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"There is no rollout '{rolloutId}' in {Ledger.Name}.", rolloutId);
        }

        return RolloutState.Fold(events, head);
    }

    /// <summary>The fold step of a <see cref="StreamDecisionLoop"/> on a rollout's stream.</summary>
    public Func<CancellationToken, Task<(RolloutState State, long ReadAt)>> Fold(string rolloutId)
        => async ct =>
        {
            var state = await LoadAsync(rolloutId, ct).ConfigureAwait(false);
            return (state, state.HeadSequence);
        };

    /// <summary>
    /// Moves spooled events into the ledger before a decision reads it, so the decision (and everyone after it) sees
    /// them there; if the ledger still refuses, the fold above still sees them and the next append says so.
    /// </summary>
    public async Task FlushSpoolAsync(CancellationToken cancellationToken)
        => await audit.FlushSpoolAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The Running or Paused rollout of a flag in an environment, or null.</summary>
    public async Task<RolloutState?> FindActiveAsync(string flag, string environment, CancellationToken cancellationToken)
        => (await ActiveAsync(flag, environment, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public async Task<IReadOnlyList<RolloutState>> ActiveAsync(string flag, string environment, CancellationToken cancellationToken)
    {
        // Only the lifecycle events are read to find candidates; just those are folded in full (spool included, so a
        // candidate whose end is spooled is not active).
        var candidates = (await Ledger.ReadListAsync(new AuditQuery { Flag = flag, Environment = environment, EventTypes = RolloutEventTypes.Lifecycle }, cancellationToken).ConfigureAwait(false))
            .Where(e => e.RolloutId is not null)
            .GroupBy(e => e.RolloutId!, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Any(e => e.EventType == RolloutEventTypes.Started) && !g.Any(e => e.EventType is RolloutEventTypes.Completed or RolloutEventTypes.RolledBack))
            .Select(g => g.Key)
            .ToArray();
        var active = new List<RolloutState>();
        foreach (var id in candidates)
        {
            var state = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
            if (state.IsActive)
            {
                active.Add(state);
            }
        }

        return active;
    }

    /// <summary>Rollouts folded from the ledger, newest first; filtered by flag and environment when given.</summary>
    public async Task<IReadOnlyList<RolloutState>> ListAsync(string? flag, string? environment, bool activeOnly, CancellationToken cancellationToken)
    {
        var head = await Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        return (await Ledger.ReadListAsync(new AuditQuery { Flag = flag, Environment = environment }, cancellationToken).ConfigureAwait(false))
            .Where(e => e.RolloutId is not null)
            .GroupBy(e => e.RolloutId!, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Any(e => e.EventType == RolloutEventTypes.Started))
            .Select(g => RolloutState.Fold(g, head))
            .Where(s => !activeOnly || s.IsActive)
            .OrderByDescending(s => s.StartedAt)
            .ToArray();
    }

    public void EnsureSameStore(RolloutState state)
    {
        if (!IsThisStore(state))
        {
            throw new FlagsException(
                "RolloutStoreMismatch",
                FlagsErrorKind.InvalidOperation,
                $"Rollout {state.RolloutId} runs on {state.Store}; this session's store is {store.Identity}. Connect to the rollout's store to act on it.",
                state.RolloutId);
        }
    }

    // Rollouts started before stores had an identity recorded the display name; they still match their own store.
    public bool IsThisStore(RolloutState state)
        => string.Equals(state.Store, store.Identity, StringComparison.Ordinal) || string.Equals(state.Store, store.Name, StringComparison.Ordinal);
}
