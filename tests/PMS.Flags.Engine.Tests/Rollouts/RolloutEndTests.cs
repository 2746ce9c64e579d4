using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;
using PMS.Flags.Engine.Tests.Guardrails;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>
/// A rollout's end: one event even when Stop and a breach race, no false "reassert" event (LaunchDarkly's turn-off always
/// reports a change), no failure from a redundant write, and a rollback whose verification fails still ends the rollout.
/// </summary>
public sealed class RolloutEndTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    private static GuardrailDefinition Critical() => GuardrailDefinition.ForPrometheus("HighErrorRate", FakePrometheus.Url, RolloutFixture.ErrorQuery, GuardrailOperator.GreaterThan, 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);

    private void Breach() => f.Prometheus.Vector(RolloutFixture.ErrorQuery, ("status=503,handler=/api/appointments", "0.091"));

    [Fact]
    public async Task Stop_on_a_store_whose_turn_off_always_reports_a_change_writes_once_and_records_no_reassert()
    {
        var store = new LaunchDarklyLikeStore(f.Store()) { FailTurnOffAfterFirst = true };
        var plan = f.Plan();
        await f.NewEngine(store).StartAsync(plan, None);

        var stopped = await f.NewEngine(store).StopAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "enough" }, None);

        Assert.Equal(RolloutStatus.Aborted, stopped.Status);
        Assert.Equal(1, store.TurnOffs);
        Assert.DoesNotContain(f.Events(FlagOperations.ToggledEventType), e => e.Details?.Contains("rollout_end_reassert") == true);
        Assert.DoesNotContain(f.Warnings, w => w.Contains("raced"));
        Assert.False((await f.FlagState()).On);
    }

    [Fact]
    public async Task Stop_and_a_breach_rollback_at_the_same_moment_record_one_end()
    {
        var store = new LaunchDarklyLikeStore(f.Store());
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: Critical());
        await f.NewEngine(store).StartAsync(plan, None);
        Breach();

        // While the breach rollback switches the flag off, an operator's Stop runs to its end.
        store.OnFirstTurnOff = () => f.NewEngine(new LaunchDarklyLikeStore(f.Store())).StopAsync(plan.RolloutId, new RolloutActor { User = "oncall", Reason = "stop it" }, None);
        var step = await f.NewEngine(store).StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.RolledBack, step.Action);
        var end = Assert.Single(f.Events(RolloutEventTypes.RolledBack));
        Assert.Equal("aborted", end.Outcome);
        Assert.Single(f.Events(RolloutEventTypes.GuardrailBreached)); // the breach's evidence is still recorded, once
        Assert.False((await f.FlagState()).On);
        Assert.True((await f.Ledger().VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task A_breach_rollback_whose_verification_fails_still_ends_the_rollout_and_is_not_called_a_failed_flag_off()
    {
        var store = new LaunchDarklyLikeStore(f.Store());
        var plan = f.Plan(bake: TimeSpan.FromMinutes(5), guardrails: Critical());
        await f.NewEngine(store).StartAsync(plan, None);
        Breach();
        store.FailReadsAfterTurnOff = true;

        var step = await f.NewEngine(store).StepAsync(plan.RolloutId, "ci", None);

        Assert.Equal(RolloutStepAction.RolledBack, step.Action);
        Assert.Equal(RolloutStatus.RolledBack, step.Status);
        Assert.False(step.Rollback!.Verified);
        Assert.True(step.Rollback.FlagOff);
        Assert.Single(f.Events(RolloutEventTypes.RolledBack));
        Assert.DoesNotContain(f.Events(RolloutEventTypes.GuardrailBreached), e => e.Outcome == "rollback_failed");
        Assert.DoesNotContain(f.Warnings, w => w.Contains("could not switch the flag off"));
        store.FailReadsAfterTurnOff = false;
        Assert.False((await f.FlagState()).On);
    }

    /// <summary>Like LaunchDarkly: a turn-off always reports Changed. Can fail later turn-offs, or reads after a turn-off.</summary>
    private sealed class LaunchDarklyLikeStore : IFlagStore
    {
        private readonly IFlagStore inner;
        private bool turnedOff;

        public LaunchDarklyLikeStore(IFlagStore inner) => this.inner = inner;

        public int TurnOffs { get; private set; }

        public bool FailTurnOffAfterFirst { get; init; }

        public bool FailReadsAfterTurnOff { get; set; }

        public Func<Task>? OnFirstTurnOff { get; set; }

        public string Kind => inner.Kind;

        public string Name => inner.Name;

        public string Identity => inner.Identity;

        public string? DefaultEnvironment => inner.DefaultEnvironment;

        public IReadOnlyCollection<string> ProtectedEnvironments => inner.ProtectedEnvironments;

        public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken) => inner.GetEnvironmentsAsync(cancellationToken);

        public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
            => FailReadsAfterTurnOff && turnedOff ? throw new InvalidOperationException("read failed after the write") : inner.GetFlagsAsync(environment, flag, cancellationToken);

        public async Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken)
        {
            if (change.Kind != FlagChangeKind.TurnOff)
            {
                return await inner.ApplyAsync(change, cancellationToken);
            }

            if (++TurnOffs > 1 && FailTurnOffAfterFirst)
            {
                throw new HttpRequestException("429 Too Many Requests");
            }

            if (OnFirstTurnOff is { } hook)
            {
                OnFirstTurnOff = null;
                await hook();
            }

            var result = await inner.ApplyAsync(change, cancellationToken);
            turnedOff = true;
            return new FlagChangeResult(result.Previous, result.Current, changed: true);
        }

        public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken) => inner.PreviewAsync(change, cancellationToken);
    }
}
