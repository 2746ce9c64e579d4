using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>
/// A rollout end recorded while the ledger could not take it lands in the spool; until it is flushed, every decision on
/// that rollout must still see it, or "the last writer switches the flag off" breaks: a later Step would apply a claimed
/// stage and switch the flag back on after the incident. The Step flushes first; when the ledger still refuses, the fold
/// reads the spool; Suspend, Resume and Stop fold it too.
/// </summary>
public sealed class RolloutSpooledEndTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task A_spooled_rollout_rolled_back_stops_a_later_step_and_resume_from_switching_the_flag_on_while_the_ledger_still_refuses()
    {
        var plan = await StoppedWithItsEndSpooledAsync();
        var before = f.Snapshot();

        // Past the grace time a Step would apply the claimed 25 % stage of a running rollout; this one has ended.
        f.Clock.Advance(TimeSpan.FromMinutes(3));
        var blocked = BlockedEngine();
        var step = await blocked.StepAsync(plan.RolloutId, "agent-2", None);

        Assert.Equal(RolloutStepAction.NoAction, step.Action);
        Assert.Equal(RolloutStatus.Aborted, step.Status);
        var actor = new RolloutActor { User = "oncall", Reason = "carry on", ApprovalTicket = "TICKET-12345" };
        Assert.Equal("RolloutNotActive", (await Assert.ThrowsAsync<FlagsException>(() => blocked.ResumeAsync(plan.RolloutId, actor, None))).ErrorId);
        Assert.Equal("RolloutNotActive", (await Assert.ThrowsAsync<FlagsException>(() => blocked.SuspendAsync(plan.RolloutId, actor, None))).ErrorId);
        Assert.Equal("RolloutNotActive", (await Assert.ThrowsAsync<FlagsException>(() => blocked.StopAsync(plan.RolloutId, actor, None))).ErrorId);
        Assert.Null(await blocked.FindActiveAsync(RolloutFixture.Flag, RolloutFixture.Environment, None));
        Assert.False((await f.FlagState()).On);
        var after = f.Snapshot();
        Assert.Equal(before.Flags, after.Flags);
        Assert.Equal(before.Ledger, after.Ledger);
        Assert.Contains(new AuditSpool(f.SpoolPath).Peek(f.Ledger()), e => e.EventType == RolloutEventTypes.RolledBack && e.RolloutId == plan.RolloutId);
    }

    [Fact]
    public async Task A_step_flushes_the_spooled_end_into_the_ledger_first_and_then_leaves_the_flag_off()
    {
        var plan = await StoppedWithItsEndSpooledAsync();
        f.Clock.Advance(TimeSpan.FromMinutes(3));

        var step = await f.NewEngine().StepAsync(plan.RolloutId, "agent-2", None);

        Assert.Equal(RolloutStepAction.NoAction, step.Action);
        Assert.Equal(RolloutStatus.Aborted, step.Status);
        Assert.Equal("aborted", Assert.Single(f.Events(RolloutEventTypes.RolledBack)).Outcome);
        Assert.Empty(new AuditSpool(f.SpoolPath).Peek(f.Ledger()));
        Assert.Single(f.Events(RolloutEventTypes.StageAdvanced), e => e.RolloutPercentage == 25m); // claimed once, never applied
        Assert.False((await f.FlagState()).On);
        Assert.Equal(RolloutStatus.Aborted, (await f.NewEngine().GetAsync(plan.RolloutId, None)).Status);
        Assert.True((await f.Ledger().VerifyAsync(None)).Valid);
    }

    /// <summary>
    /// Stage 2 claimed by a step that died before its flag change; then a Stop while a hung writer holds the ledger: the
    /// flag goes off and the rollout's end is spooled.
    /// </summary>
    private async Task<RolloutPlan> StoppedWithItsEndSpooledAsync()
    {
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5));
        await f.NewEngine().StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        await Assert.ThrowsAsync<IOException>(() => f.NewEngine(new FailingStore(f.Store()) { FailSetPercentage = true }).StepAsync(plan.RolloutId, "agent-dead", None));
        var claimed = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(2, claimed.StageNumber);
        Assert.False(claimed.StageApplied);

        var stopped = await BlockedEngine().StopAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "incident" }, None);

        Assert.Equal(RolloutStatus.Aborted, stopped.Status);
        Assert.False((await f.FlagState()).On);
        Assert.Empty(f.Events(RolloutEventTypes.RolledBack));
        Assert.Contains(new AuditSpool(f.SpoolPath).Peek(f.Ledger()), e => e.EventType == RolloutEventTypes.RolledBack && e.RolloutId == plan.RolloutId);
        return plan;
    }

    /// <summary>An engine whose ledger reads but refuses every append, as when another writer holds its lock.</summary>
    private RolloutEngine BlockedEngine()
        => new(f.Store(), new AuditTrail(new LockedLedger(f.Ledger()), new AuditSpool(f.SpoolPath), NullOperationLog.Instance), f.Guardrails(), f.Clock);

    private sealed class LockedLedger : ILedger
    {
        private readonly ILedger inner;

        public LockedLedger(ILedger inner) => this.inner = inner;

        public string Name => inner.Name;

        public string Identity => inner.Identity;

        public Task EnsureWritableAsync(CancellationToken cancellationToken) => Task.FromException(Locked());

        public Task<IReadOnlyList<AuditEvent>> AppendAsync(IReadOnlyList<AuditEvent> drafts, LedgerExpectation? expectation, bool skipKnownEventIds, CancellationToken cancellationToken)
            => Task.FromException<IReadOnlyList<AuditEvent>>(Locked());

        public Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken) => inner.GetHeadSequenceAsync(cancellationToken);

        public IAsyncEnumerable<AuditEvent> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => inner.ReadAsync(query, cancellationToken);

        public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private LedgerException Locked() => new(LedgerFailure.Unavailable, "LockTimeout", FlagsErrorKind.OperationTimeout, $"Another writer held the lock on '{Name}' for too long.", Name);
    }
}
