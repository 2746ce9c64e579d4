using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>A rollout driven end to end on a local flag file and a JSONL ledger, against a fake Prometheus, on a hand-moved clock.</summary>
public sealed class RolloutLifecycleTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task A_healthy_rollout_goes_through_every_stage_and_completes_with_every_stage_and_evaluation_in_the_ledger()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30), guardrails: new[] { RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime() });

        var started = await engine.StartAsync(plan, None);
        Assert.Equal(RolloutStatus.Running, started.Status);
        Assert.Equal(1, started.StageNumber);
        Assert.True(started.StageApplied);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);

        var actions = new List<RolloutStepAction>();
        var percentages = new List<decimal?>();
        for (var i = 0; i < 12 && actions.LastOrDefault() != RolloutStepAction.Completed; i++)
        {
            f.Clock.Advance(TimeSpan.FromMinutes(10));
            var step = await engine.StepAsync(plan.RolloutId, "scheduler@pms.example.com", None);
            actions.Add(step.Action);
            percentages.Add((await f.FlagState()).EffectivePercentage);
            Assert.Equal(2, step.Guardrails.Count);
            Assert.All(step.Guardrails, g => Assert.Equal(GuardrailStatus.Healthy, g.Status));
        }

        // 10-minute steps against a 30-minute bake: wait, wait, advance at each stage; the last stage completes.
        Assert.Equal(
            new[] { RolloutStepAction.Waiting, RolloutStepAction.Waiting, RolloutStepAction.Advanced, RolloutStepAction.Waiting, RolloutStepAction.Waiting, RolloutStepAction.Advanced, RolloutStepAction.Waiting, RolloutStepAction.Waiting, RolloutStepAction.Advanced, RolloutStepAction.Waiting, RolloutStepAction.Waiting, RolloutStepAction.Completed },
            actions);
        Assert.Equal(new decimal?[] { 5, 5, 25, 25, 25, 50, 50, 50, 100, 100, 100, 100 }, percentages);

        var final = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(RolloutStatus.Completed, final.Status);
        Assert.Equal(4, final.StageNumber);
        Assert.True((await f.FlagState()).On);

        var ledger = f.Events();
        Assert.Single(ledger, e => e.EventType == RolloutEventTypes.Started);
        var advanced = ledger.Where(e => e.EventType == RolloutEventTypes.StageAdvanced).ToList();
        Assert.Equal(new decimal?[] { 5, 25, 50, 100 }, advanced.Select(e => e.RolloutPercentage));
        Assert.Equal(new[] { 0, 1, 2, 3 }, advanced.Select(e => (int)JObject.Parse(e.Details!)["stage_index"]!));
        var toggles = ledger.Where(e => e.EventType == "feature_flag_toggled").ToList();
        Assert.Equal(new decimal?[] { 5, 25, 50, 100 }, toggles.Select(e => e.RolloutPercentage));
        Assert.All(toggles, e => Assert.Equal(plan.RolloutId, e.RolloutId));
        Assert.All(toggles, e => Assert.Equal("TICKET-12345", e.ApprovalTicket));

        // Every step evaluated both guardrails and recorded it, with the measured value, query and threshold.
        var evaluations = ledger.Where(e => e.EventType == RolloutEventTypes.GuardrailEvaluated).ToList();
        Assert.Equal(24, evaluations.Count);
        var first = JObject.Parse(evaluations[0].Details!);
        Assert.Equal("HighErrorRate", (string?)first["guardrail"]);
        Assert.Equal("Healthy", (string?)first["status"]);
        Assert.Equal(RolloutFixture.ErrorQuery, (string?)first["query"]);
        Assert.Equal("rate(http_requests_total{status=~\"5..\"}[5m]) > 0.05", (string?)first["expression"]);
        Assert.Equal(0.05m, (decimal)first["threshold"]!);
        Assert.Equal("0.001", (string?)first["series"]![0]!["value"]);
        Assert.Single(ledger, e => e.EventType == RolloutEventTypes.Completed);
        Assert.All(ledger.Where(e => e.RolloutId == plan.RolloutId), e => Assert.Equal(RolloutFixture.Flag, e.FeatureFlag));
        Assert.True(f.Ledger().Verify(None).Valid);

        // Idempotent at the end: another step does nothing and records nothing.
        var count = f.Events().Count;
        var again = await engine.StepAsync(plan.RolloutId, "scheduler", None);
        Assert.Equal(RolloutStepAction.NoAction, again.Action);
        Assert.Equal(count, f.Events().Count);
    }

    [Fact]
    public async Task A_critical_breach_at_stage_two_rolls_back_flag_off_first_with_the_evidence_in_the_ledger()
    {
        var guardrail = GuardrailDefinition.ForPrometheus("HighErrorRate", FakePrometheus.Url, RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: guardrail);
        await engine.StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(RolloutStepAction.Advanced, (await engine.StepAsync(plan.RolloutId, "ci", None)).Action);
        Assert.Equal(25m, (await f.FlagState()).EffectivePercentage);

        // The faulty feature shows at 25%.
        f.Prometheus.Vector(RolloutFixture.ErrorQuery, ("status=500,handler=/api/appointments", "0.02"), ("status=503,handler=/api/appointments", "0.091"));
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.RolledBack, step.Action);
        Assert.Equal(RolloutStatus.RolledBack, step.Status);
        Assert.False((await f.FlagState()).On);
        Assert.NotNull(step.Rollback);
        Assert.True(step.Rollback!.Verified);
        Assert.NotNull(step.DetectionToFlagOff);
        Assert.True(step.DetectionToFlagOff >= TimeSpan.Zero, $"the flag went off before the breach was detected: {step.DetectionToFlagOff}");
        Assert.Contains("{handler=\"/api/appointments\", status=\"503\"} = 0.091", step.Reason);

        var ledger = f.Events();
        var afterBreach = ledger.SkipWhile(e => !(e.EventType == "feature_flag_toggled" && e.NewState == false)).ToList();
        Assert.Equal("feature_flag_toggled", afterBreach[0].EventType); // the flag went off before anything about the breach was written
        Assert.Equal(plan.RolloutId, afterBreach[0].RolloutId);
        Assert.Contains(afterBreach, e => e.EventType == EmergencyRollback.EventType);
        var breached = Assert.Single(ledger, e => e.EventType == RolloutEventTypes.GuardrailBreached);
        var evidence = JObject.Parse(breached.Details!);
        Assert.Equal(RolloutFixture.ErrorQuery, (string?)evidence["query"]);
        Assert.Equal("0.091", (string?)evidence["value"]);
        Assert.Equal("> 0.05", (string?)evidence["threshold"]);
        Assert.Equal("rollback", (string?)evidence["action"]);
        Assert.Equal(new[] { "{handler=\"/api/appointments\", status=\"503\"} = 0.091" }, evidence["series"]!.Select(s => (string)s!));
        Assert.Equal(2, (int)evidence["stage_number"]!);
        var rolledBack = Assert.Single(ledger, e => e.EventType == RolloutEventTypes.RolledBack);
        var details = JObject.Parse(rolledBack.Details!);
        Assert.Equal("guardrail_breach", (string?)details["cause"]);
        Assert.Equal(25m, (decimal)details["percentage_before"]!);
        Assert.NotNull((long?)details["detection_to_flag_off_ms"]);
        Assert.Equal("HighErrorRate", (string?)details["evidence"]![0]!["guardrail"]);

        var state = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(RolloutStatus.RolledBack, state.Status);
        Assert.Equal("guardrail_breach", state.EndCause);
        Assert.NotNull(state.DetectionToFlagOff);

        // Over: stepping again neither turns anything back on nor records another ending.
        var again = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.NoAction, again.Action);
        Assert.Single(f.Events(), e => e.EventType == RolloutEventTypes.RolledBack);
        Assert.False((await f.FlagState()).On);
    }

    [Fact]
    public async Task A_warning_breach_pauses_and_resume_continues_with_the_remaining_bake_time()
    {
        var engine = f.NewEngine();
        var latency = GuardrailDefinition.ForPrometheus("SlowResponseTime", FakePrometheus.Url, RolloutFixture.LatencyQuery, GuardrailOperator.GreaterThan, 2, TimeSpan.Zero, GuardrailSeverity.Warning);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(10), guardrails: latency);
        await engine.StartAsync(plan, None);

        f.Clock.Advance(TimeSpan.FromMinutes(4));
        f.Prometheus.Vector(RolloutFixture.LatencyQuery, ("handler=/api/appointments", "2.7"));
        var paused = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.Paused, paused.Action);
        Assert.Equal(RolloutStatus.Paused, paused.Status);
        Assert.Equal(TimeSpan.FromMinutes(6), paused.State.RemainingBakeWhenPaused);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage); // a warning never touches the flag
        var breach = Assert.Single(f.Events(RolloutEventTypes.GuardrailBreached));
        Assert.Equal("pause", breach.Outcome);

        // Paused for an hour: the bake clock is frozen, and steps do not advance.
        f.Clock.Advance(TimeSpan.FromHours(1));
        f.Prometheus.Vector(RolloutFixture.LatencyQuery, ("handler=/api/appointments", "0.4"));
        var whilePaused = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.NoAction, whilePaused.Action);
        Assert.Equal(TimeSpan.FromMinutes(6), whilePaused.RemainingBake);

        var resumed = await f.NewEngine().ResumeAsync(plan.RolloutId, new RolloutActor { User = "oncall@pms.example.com", Reason = "Latency spike was a cache warm-up" }, None);
        Assert.Equal(RolloutStatus.Running, resumed.Status);
        Assert.Equal(TimeSpan.FromMinutes(6), resumed.RemainingBake(f.Clock.GetUtcNow()));
        var resumedEvent = Assert.Single(f.Events(RolloutEventTypes.Resumed));
        Assert.Equal("00:06:00", (string?)JObject.Parse(resumedEvent.Details!)["remaining_bake"]);
        Assert.Equal("TICKET-12345", resumedEvent.ApprovalTicket);

        f.Clock.Advance(TimeSpan.FromMinutes(5));
        var waiting = await engine.StepAsync(plan.RolloutId, "ci", None);
        Assert.Equal(RolloutStepAction.Waiting, waiting.Action);
        Assert.Equal(TimeSpan.FromMinutes(1), waiting.RemainingBake);

        f.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutStepAction.Advanced, (await engine.StepAsync(plan.RolloutId, "ci", None)).Action);
        Assert.Equal(25m, (await f.FlagState()).EffectivePercentage);
    }

    [Fact]
    public async Task A_critical_breach_rolls_back_even_while_the_rollout_is_paused()
    {
        var engine = f.NewEngine();
        var critical = GuardrailDefinition.ForPrometheus("HighErrorRate", FakePrometheus.Url, RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(10), guardrails: critical);
        await engine.StartAsync(plan, None);
        await engine.SuspendAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "lunch" }, None);

        f.Clock.Advance(TimeSpan.FromMinutes(3));
        f.Prometheus.Vector(RolloutFixture.ErrorQuery, ("status=500,handler=/api/appointments", "0.4"));
        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.RolledBack, step.Action);
        Assert.False((await f.FlagState()).On);
    }

    [Fact]
    public async Task For_requires_the_breach_to_hold_across_consecutive_evaluations_and_an_interruption_resets_it()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(1), guardrails: RolloutFixture.HighErrorRate()); // for: 2m, critical
        await engine.StartAsync(plan, None);
        var bad = ("status=500,handler=/api/appointments", "0.2");
        var good = ("status=500,handler=/api/appointments", "0.01");

        async Task<RolloutStepResult> StepAt(TimeSpan after, (string, string) sample)
        {
            f.Clock.Advance(after);
            f.Prometheus.Vector(RolloutFixture.ErrorQuery, sample);
            return await f.NewEngine().StepAsync(plan.RolloutId, "ci", None);
        }

        var s1 = await StepAt(TimeSpan.FromSeconds(30), bad);
        Assert.Equal(RolloutStepAction.Waiting, s1.Action);
        Assert.Equal(GuardrailStatus.Pending, s1.Guardrails[0].Status);

        // Bake time is over, but a pending guardrail holds the stage: no advance.
        var s2 = await StepAt(TimeSpan.FromMinutes(1), bad);
        Assert.Equal(RolloutStepAction.Waiting, s2.Action);
        Assert.Equal(GuardrailStatus.Pending, s2.Guardrails[0].Status);
        Assert.Contains("held 1m of 2m", s2.Reason);
        Assert.Equal(5m, (await f.FlagState()).EffectivePercentage);

        // One healthy evaluation interrupts the breach: the count starts again.
        var s3 = await StepAt(TimeSpan.FromSeconds(30), good);
        Assert.Equal(GuardrailStatus.Healthy, s3.Guardrails[0].Status);
        Assert.Equal(RolloutStepAction.Advanced, s3.Action);

        var s4 = await StepAt(TimeSpan.FromMinutes(1), bad);
        Assert.Equal(GuardrailStatus.Pending, s4.Guardrails[0].Status);
        var s5 = await StepAt(TimeSpan.FromMinutes(1), bad);
        Assert.Equal(GuardrailStatus.Pending, s5.Guardrails[0].Status);
        Assert.True((await f.FlagState()).On);
        var s6 = await StepAt(TimeSpan.FromMinutes(1), bad);
        Assert.Equal(GuardrailStatus.Breached, s6.Guardrails[0].Status);
        Assert.Equal(RolloutStepAction.RolledBack, s6.Action);
        Assert.False((await f.FlagState()).On);
        Assert.Contains("held 2m of 2m", s6.Reason);
    }

    [Fact]
    public async Task Stop_switches_the_flag_off_and_records_the_rollout_as_aborted()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(guardrails: RolloutFixture.HighErrorRate());
        await engine.StartAsync(plan, None);

        var stopped = await engine.StopAsync(plan.RolloutId, new RolloutActor { User = "oncall@pms.example.com", Reason = "Product asked to hold the feature" }, None);

        Assert.Equal(RolloutStepAction.RolledBack, stopped.Action);
        Assert.Equal(RolloutStatus.Aborted, stopped.Status);
        Assert.False((await f.FlagState()).On);
        var ended = Assert.Single(f.Events(RolloutEventTypes.RolledBack));
        Assert.Equal("aborted", ended.Outcome);
        Assert.Equal("stopped", (string?)JObject.Parse(ended.Details!)["cause"]);
        Assert.Equal("oncall@pms.example.com", ended.UserId);
        var error = await Assert.ThrowsAsync<FlagsException>(() => engine.StopAsync(plan.RolloutId, new RolloutActor { User = "x", Reason = "again" }, None));
        Assert.Equal("RolloutNotActive", error.ErrorId);
    }

    [Fact]
    public async Task Suspend_keeps_the_remaining_bake_and_is_idempotent_and_an_ended_rollout_cannot_be_suspended()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(20));
        await engine.StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(15));
        var actor = new RolloutActor { User = "oncall@pms.example.com", Reason = "Holding for the release freeze" };

        var suspended = await engine.SuspendAsync(plan.RolloutId, actor, None);
        var again = await engine.SuspendAsync(plan.RolloutId, actor, None);

        Assert.Equal(RolloutStatus.Paused, suspended.Status);
        Assert.Equal("manual", suspended.PauseCause);
        Assert.Equal(TimeSpan.FromMinutes(5), suspended.RemainingBakeWhenPaused);
        Assert.Equal(suspended.LastSequence, again.LastSequence);
        Assert.Single(f.Events(RolloutEventTypes.Paused));

        f.Clock.Advance(TimeSpan.FromDays(1));
        await engine.ResumeAsync(plan.RolloutId, actor, None);
        f.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(RolloutStepAction.Advanced, (await engine.StepAsync(plan.RolloutId, "ci", None)).Action);

        await engine.StopAsync(plan.RolloutId, actor, None);
        var error = await Assert.ThrowsAsync<FlagsException>(() => engine.SuspendAsync(plan.RolloutId, actor, None));
        Assert.Equal("RolloutNotActive", error.ErrorId);
        var missing = await Assert.ThrowsAsync<FlagsException>(() => engine.GetAsync("ro-does-not-exist", None));
        Assert.Equal("RolloutNotFound", missing.ErrorId);
        var noActive = await Assert.ThrowsAsync<FlagsException>(() => engine.StepAsync(RolloutFixture.Flag, RolloutFixture.Environment, "ci", None));
        Assert.Equal("RolloutNotFound", noActive.ErrorId);
    }

    [Fact]
    public async Task An_emergency_rollback_of_a_flag_under_rollout_ends_that_rollout_as_rolled_back()
    {
        var engine = f.NewEngine();
        var plan = f.Plan();
        await engine.StartAsync(plan, None);
        var store = f.Store();

        var rollback = await new EmergencyRollback(store, f.Audit(), engine.EmergencyRollbackListener).RunAsync(
            new PMS.Flags.Engine.Flags.FlagMutation { Flag = RolloutFixture.Flag, Environment = RolloutFixture.Environment, Kind = PMS.Flags.Engine.Flags.FlagChangeKind.TurnOff, Reason = "Error rate above 5%", ApprovalTicket = "INC-2001", User = "oncall@pms.example.com" },
            None);

        Assert.Equal(new[] { plan.RolloutId }, rollback.EndedRollouts);
        var state = await f.NewEngine().GetAsync(plan.RolloutId, None);
        Assert.Equal(RolloutStatus.RolledBack, state.Status);
        Assert.Equal("emergency_rollback", state.EndCause);
        Assert.Equal("oncall@pms.example.com", state.EndedBy);
        Assert.Null(await engine.FindActiveAsync(RolloutFixture.Flag, RolloutFixture.Environment, None));

        // A new rollout of the flag may start now.
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await engine.StartAsync(f.Plan(), None);
        Assert.Equal(RolloutStatus.Running, second.Status);
    }

    [Fact]
    public async Task A_flag_switched_off_by_hand_during_a_stage_is_not_switched_back_on_by_the_next_step()
    {
        var engine = f.NewEngine();
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5));
        await engine.StartAsync(plan, None);
        await new PMS.Flags.Engine.Flags.FlagOperations(f.Store(), f.Audit()).ChangeAsync(
            new PMS.Flags.Engine.Flags.FlagMutation { Flag = RolloutFixture.Flag, Environment = RolloutFixture.Environment, Kind = PMS.Flags.Engine.Flags.FlagChangeKind.TurnOff, Reason = "manual check", User = "dev" },
            None);

        f.Clock.Advance(TimeSpan.FromMinutes(5));
        var step = await engine.StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.Paused, step.Action);
        Assert.Equal("drift", step.State.PauseCause);
        Assert.False((await f.FlagState()).On);
    }

    [Fact]
    public async Task List_and_FindActive_fold_rollouts_from_the_ledger()
    {
        var engine = f.NewEngine();
        var first = f.Plan();
        await engine.StartAsync(first, None);
        await engine.StopAsync(first.RolloutId, new RolloutActor { User = "u", Reason = "r" }, None);
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = f.Plan();
        await engine.StartAsync(second, None);

        var all = await engine.ListAsync(RolloutFixture.Flag, null, activeOnly: false, None);
        var active = await engine.ListAsync(null, null, activeOnly: true, None);

        Assert.Equal(new[] { second.RolloutId, first.RolloutId }, all.Select(s => s.RolloutId));
        Assert.Equal(new[] { second.RolloutId }, active.Select(s => s.RolloutId));
        Assert.Equal(second.RolloutId, (await engine.FindActiveAsync(RolloutFixture.Flag, RolloutFixture.Environment, None))!.RolloutId);
        var step = await engine.StepAsync(RolloutFixture.Flag, RolloutFixture.Environment, "ci", None);
        Assert.Equal(second.RolloutId, step.RolloutId);
    }
}
