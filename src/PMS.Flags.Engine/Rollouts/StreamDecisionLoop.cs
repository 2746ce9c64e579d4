using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// The one implementation of "fold the stream, decide, append at its head, retry" that start, step, suspend, resume,
/// stop and every rollback use (and the planned rollback and migrations can): fold the stream as of a ledger head,
/// decide on what was folded, append the decision's events as one unit on condition that the stream did not move, and
/// on a conflict fold again and decide again. Writers of other streams never cause a retry.
/// </summary>
internal sealed class StreamDecisionLoop
{
    private readonly AuditTrail audit;
    private readonly int maxAttempts;

    public StreamDecisionLoop(AuditTrail audit, int maxAttempts)
    {
        this.audit = audit;
        this.maxAttempts = maxAttempts;
    }

    /// <param name="fold">Reads the ledger head, then the stream, and returns the folded state with that head.</param>
    /// <param name="decide">Decides on a folded state (it may throw a refusal); called again after every conflict.</param>
    /// <param name="afterChange">
    /// True for decisions recorded after a change already made (a flag switched off): when the ledger is unavailable
    /// or refuses, their events are spooled instead of lost, as one unit.
    /// </param>
    /// <param name="busy">The refusal when other writers kept moving the stream for every attempt.</param>
    public async Task<T> RunAsync<TState, T>(
        LedgerStream stream,
        Func<CancellationToken, Task<(TState State, long ReadAt)>> fold,
        Func<TState, Task<StreamDecision<T>>> decide,
        bool afterChange,
        Func<Exception> busy,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < maxAttempts; attempt++)
        {
            var (state, readAt) = await fold(cancellationToken).ConfigureAwait(false);
            var decision = await decide(state).ConfigureAwait(false);
            if (decision.Events.Count == 0)
            {
                return await decision.After(Array.Empty<AuditEvent>()).ConfigureAwait(false);
            }

            IReadOnlyList<AuditEvent> stored;
            try
            {
                stored = await audit.Ledger.AppendAsync(decision.Events.Select(audit.Stamp).ToArray(), new LedgerExpectation(stream, readAt), false, cancellationToken).ConfigureAwait(false);
            }
            catch (LedgerException ex) when (ex.Failure == LedgerFailure.Conflict)
            {
                audit.Log.Verbose($"Another writer appended to {stream} while deciding; folding it again.");
                continue;
            }
            catch (Exception ex) when (afterChange && ex is not LedgerException { Failure: LedgerFailure.Conflict })
            {
                audit.Log.Verbose($"The ledger could not take the decision on {stream} ({ex.Message}); spooling it.");
                stored = (await audit.RecordAsync(decision.Events, CancellationToken.None).ConfigureAwait(false)).Select(r => r.Event).ToArray();
            }

            return await decision.After(stored).ConfigureAwait(false);
        }

        throw busy();
    }
}
