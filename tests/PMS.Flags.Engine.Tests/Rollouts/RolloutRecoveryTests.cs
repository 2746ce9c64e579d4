using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>State lives in the ledger only: new engine instances (other processes) continue, and concurrent steppers make one decision.</summary>
public sealed class RolloutRecoveryTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task A_new_engine_rebuilds_the_plan_guardrails_stage_bake_and_For_tracking_from_the_ledger_alone()
    {
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30), guardrails: new[] { RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime() });
        await f.NewEngine().StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(RolloutStepAction.Advanced, (await f.NewEngine().StepAsync(plan.RolloutId, "agent-1", None)).Action);
        f.Clock.Advance(TimeSpan.FromMinutes(12));
        f.Prometheus.Vector(RolloutFixture.ErrorQuery, ("status=500,handler=/api/appointments", "0.07"));
        Assert.Equal(RolloutStepAction.Waiting, (await f.NewEngine().StepAsync(plan.RolloutId, "agent-1", None)).Action); // pending, 0 of 2m

        // "The driving pwsh was killed": a different process, knowing only the ledger, the store and Prometheus.
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var other = f.NewEngine();
        var state = await other.GetAsync(plan.RolloutId, None);
        Assert.Equal(2, state.StageNumber);
        Assert.Equal(25m, state.Percentage);
        Assert.Equal(TimeSpan.FromMinutes(17), state.RemainingBake(f.Clock.GetUtcNow()));
        Assert.Equal(plan.Guardrails.Select(g => g.ToJsonString()), state.Plan.Guardrails.Select(g => g.ToJsonString()));
        Assert.Equal("TICKET-12345", state.Plan.ApprovalTicket);
        Assert.Equal(f.Clock.GetUtcNow() - TimeSpan.FromMinutes(1), Assert.Single(state.ActiveSince("HighErrorRate")!).Value);

        var held = await other.StepAsync(plan.RolloutId, "agent-2", None);
        Assert.Equal(GuardrailStatus.Pending, held.Guardrails[0].Status); // 1m of 2m, counted from the first process's sighting
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var breached = await f.NewEngine().StepAsync(plan.RolloutId, "agent-3", None);
        Assert.Equal(RolloutStepAction.RolledBack, breached.Action);
    }

    [Fact]
    public async Task Two_concurrent_steps_on_one_rollout_make_exactly_one_advance()
    {
        var plan = f.Plan(new[] { 5m, 10m, 20m, 30m, 40m, 50m, 60m, 70m, 80m, 100m }, TimeSpan.FromMinutes(5), RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime());
        await f.NewEngine().StartAsync(plan, None);

        for (var round = 1; round <= plan.Stages.Count; round++)
        {
            f.Clock.Advance(TimeSpan.FromMinutes(5));
            var a = f.NewEngine();
            var b = f.NewEngine();

            // Both measure before either decides: four queries (two guardrails each) must arrive before any answer.
            f.Prometheus.HoldUntil(4);
            var results = await Task.WhenAll(
                Task.Run(() => a.StepAsync(plan.RolloutId, "agent-a", None)),
                Task.Run(() => b.StepAsync(plan.RolloutId, "agent-b", None)));

            var actions = results.Select(r => r.Action).OrderBy(x => x).ToArray();
            var last = round == plan.Stages.Count;
            var expected = last ? RolloutStepAction.Completed : RolloutStepAction.Advanced;
            Assert.Equal(new[] { expected, RolloutStepAction.NoAction }.OrderBy(x => x), actions);
            Assert.Equal(Math.Min(round + 1, plan.Stages.Count), f.Events(RolloutEventTypes.StageAdvanced).Count);
            Assert.Equal(plan.Stages[Math.Min(round, plan.Stages.Count - 1)], (await f.FlagState()).EffectivePercentage);
        }

        Assert.Single(f.Events(RolloutEventTypes.Completed));
        Assert.Equal(plan.Stages.Count, f.Events(FlagOperations.ToggledEventType).Count); // no stage was applied twice
        Assert.True(f.Ledger().Verify(None).Valid);
    }

    [Fact]
    public async Task A_stage_decided_by_a_step_that_died_before_the_flag_change_is_applied_by_a_later_step_after_the_grace_time()
    {
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: RolloutFixture.HighErrorRate());
        await f.NewEngine().StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));

        // This "process" dies in the store call after claiming stage 2.
        var dying = new FailingStore(f.Store()) { FailSetPercentage = true };
        await Assert.ThrowsAsync<IOException>(() => f.NewEngine(dying).StepAsync(plan.RolloutId, "agent-dead", None));
        var claimed = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(2, claimed.StageNumber);
        Assert.False(claimed.StageApplied);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);

        // Within the grace time another step leaves it to the (presumably live) claimer.
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var early = await f.NewEngine().StepAsync(plan.RolloutId, "agent-2", None);
        Assert.Equal(RolloutStepAction.Waiting, early.Action);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);

        f.Clock.Advance(TimeSpan.FromMinutes(2));
        var late = await f.NewEngine().StepAsync(plan.RolloutId, "agent-2", None);
        Assert.Equal(RolloutStepAction.Advanced, late.Action);
        Assert.Equal(25m, (await f.FlagState()).EffectivePercentage);
        Assert.True(late.State.StageApplied);
        Assert.Equal(TimeSpan.FromMinutes(5), late.State.RemainingBake(f.Clock.GetUtcNow())); // bake starts when users get the stage
        Assert.Equal(2, f.Events(RolloutEventTypes.StageAdvanced).Count);
    }

    [Fact]
    public async Task When_the_store_refuses_the_automatic_flag_off_the_evidence_is_kept_and_the_next_step_tries_again()
    {
        var critical = GuardrailDefinition.ForPrometheus("HighErrorRate", FakePrometheus.Url, RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: critical);
        await f.NewEngine().StartAsync(plan, None);
        f.Prometheus.Vector(RolloutFixture.ErrorQuery, ("status=500", "0.3"));
        f.Clock.Advance(TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<HttpRequestException>(() => f.NewEngine(new FailingStore(f.Store()) { FailTurnOff = true }).StepAsync(plan.RolloutId, "ci", None));

        Assert.Equal("rollback_failed", Assert.Single(f.Events(RolloutEventTypes.GuardrailBreached)).Outcome);
        Assert.Equal("failed", Assert.Single(f.Events("emergency_rollback")).Outcome);
        Assert.Equal(RolloutStatus.Running, (await f.NewEngine().GetAsync(plan.RolloutId, None)).Status);

        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var retried = await f.NewEngine().StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.RolledBack, retried.Action);
        Assert.False((await f.FlagState()).On);
    }

    [Fact]
    public async Task An_advance_that_raced_a_rollback_is_undone_so_the_flag_ends_off()
    {
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5));
        await f.NewEngine().StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));

        // The rollback lands between this step's claim and its flag change.
        var racing = new FailingStore(f.Store());
        var engine = f.NewEngine(racing);
        racing.BeforeSetPercentage = async () =>
        {
            await f.NewEngine().StopAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "incident" }, None);
        };

        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStatus.Aborted, step.Status);
        Assert.False((await f.FlagState()).On);
        var reassert = f.Events(FlagOperations.ToggledEventType).Last();
        Assert.False(reassert.NewState);
        Assert.Contains("rollout_end_reassert", reassert.Details);
    }

    [Fact]
    public void The_filler_writes_exactly_the_lines_the_ledger_codec_writes()
    {
        var first = AuditEventCodec.ToLine(LedgerFiller.Event(1, null), out var firstHash);
        var second = AuditEventCodec.ToLine(LedgerFiller.Event(2, firstHash), out _);
        var path = Path.Combine(f.Directory, "filled.jsonl");

        LedgerFiller.Fill(path, 2);

        Assert.Equal(new[] { first, second }, File.ReadAllLines(path));
        Assert.True(new JsonlLedger(path).Verify(None).Valid);
    }

    [Fact]
    public async Task A_rollout_among_100000_unrelated_events_is_folded_by_a_fresh_engine_to_the_same_state()
    {
        // How fast the fold is, is a figure: tests/bench (1-ChainVerification.Bench.ps1, "rollout fold") prints it.
        LedgerFiller.Fill(f.LedgerPath, 100_000);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: RolloutFixture.HighErrorRate());
        var engine = f.NewEngine();
        await engine.StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        await engine.StepAsync(plan.RolloutId, "ci", None);

        var state = await f.NewEngine().GetAsync(plan.RolloutId, None);

        Assert.Equal(2, state.StageNumber);
        Assert.Equal(RolloutStatus.Running, state.Status);
        Assert.Equal(25m, (await f.FlagState()).EffectivePercentage);
        Assert.Equal(RolloutStepAction.Waiting, (await engine.StepAsync(plan.RolloutId, "ci", None)).Action);
    }
}
