using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// What every part of the rollout engine works with: one store, one audit trail, one clock, and the single
/// <see cref="StreamDecisionLoop"/> every decision goes through. Built once per <see cref="RolloutEngine"/>; holds no
/// rollout state.
/// </summary>
internal sealed class RolloutContext
{
    public RolloutContext(IFlagStore store, AuditTrail audit, TimeProvider time, RolloutEngineOptions options)
    {
        Store = store;
        Audit = audit;
        Time = time;
        Options = options;
        Operations = new FlagOperations(store, audit, time);
        Decisions = new StreamDecisionLoop(audit, options.MaxDecisionAttempts);
        Reader = new RolloutReader(store, audit);
        Events = new RolloutEvents(store, time);
        Results = new RolloutResults(time);
    }

    public IFlagStore Store { get; }

    public AuditTrail Audit { get; }

    public IOperationLog Log => Audit.Log;

    public TimeProvider Time { get; }

    public RolloutEngineOptions Options { get; }

    public FlagOperations Operations { get; }

    public StreamDecisionLoop Decisions { get; }

    public RolloutReader Reader { get; }

    public RolloutEvents Events { get; }

    public RolloutResults Results { get; }
}
