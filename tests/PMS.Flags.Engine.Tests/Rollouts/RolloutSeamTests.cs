using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>What the rollout engine needs from the store seam: a stable identity across checkouts, and two-phase writes.</summary>
public sealed class RolloutSeamTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task A_rollout_started_from_one_clone_is_stepped_from_another_clone_of_the_same_repository()
    {
        var cloneA = Clone("agent-a");
        var cloneB = Clone("agent-b");
        var storeA = new LocalFileFlagStore(cloneA);
        var storeB = new LocalFileFlagStore(cloneB);
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30));

        await f.NewEngine(storeA).StartAsync(plan, None);
        File.Copy(cloneA, cloneB, overwrite: true); // agent B's checkout pulled agent A's commit
        f.Clock.Advance(TimeSpan.FromMinutes(31));
        var step = await f.NewEngine(storeB).StepAsync(plan.RolloutId, "agent-b", None);

        Assert.Equal("localfile:apps/backend/config/feature_flags.json", storeA.Identity);
        Assert.Equal(storeA.Identity, storeB.Identity);
        Assert.Equal(RolloutStepAction.Advanced, step.Action);
        Assert.Equal(25m, (await storeB.GetFlagsAsync(RolloutFixture.Environment, RolloutFixture.Flag, None))[0].EffectivePercentage);
        Assert.All(f.Events(), e => Assert.Equal(storeA.Identity, e.Store));
    }

    [Fact]
    public async Task A_store_whose_changes_propagate_later_records_both_phases_and_the_rollout_bakes_from_propagation()
    {
        // The "restart" takes ten minutes of the rollout's clock.
        var store = new PropagatingStore(f.Store(), () =>
        {
            f.Clock.Advance(TimeSpan.FromMinutes(10));
            return f.Clock.GetUtcNow();
        });
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30));

        var started = await f.NewEngine(store).StartAsync(plan, None);
        f.Clock.Advance(TimeSpan.FromMinutes(25)); // 35 minutes after the write, 25 after propagation
        var early = await f.NewEngine(store).StepAsync(plan.RolloutId, "ci", None);
        f.Clock.Advance(TimeSpan.FromMinutes(6));
        var due = await f.NewEngine(store).StepAsync(plan.RolloutId, "ci", None);

        var toggled = f.Events(FlagOperations.ToggledEventType).First();
        var propagated = Assert.Single(f.Events(FlagOperations.PropagatedEventType), e => e.RolloutId == plan.RolloutId && e.RolloutPercentage == 5m);
        Assert.Equal("propagated", propagated.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(10), propagated.Timestamp - toggled.Timestamp);
        Assert.True(propagated.Sequence > toggled.Sequence);
        Assert.False(started.AwaitingPropagation);
        Assert.Equal(RolloutStepAction.Waiting, early.Action);
        Assert.Equal(TimeSpan.FromMinutes(5), early.RemainingBake);
        Assert.Equal(RolloutStepAction.Advanced, due.Action);
    }

    private string Clone(string name)
    {
        var root = Path.Combine(f.Directory, name);
        Directory.CreateDirectory(Path.Combine(root, ".git"));
        var path = Path.Combine(root, "apps", "backend", "config", "feature_flags.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(f.FlagPath, path);
        return path;
    }

    private sealed class PropagatingStore : IFlagStore
    {
        private readonly IFlagStore inner;
        private readonly Func<DateTimeOffset> propagate;

        public PropagatingStore(IFlagStore inner, Func<DateTimeOffset> propagate)
        {
            this.inner = inner;
            this.propagate = propagate;
        }

        public string Kind => "Propagating";

        public string Name => inner.Name;

        public string Identity => inner.Identity;

        public string? DefaultEnvironment => inner.DefaultEnvironment;

        public IReadOnlyCollection<string> ProtectedEnvironments => inner.ProtectedEnvironments;

        public bool PropagatesLater => true;

        public Task<DateTimeOffset> WaitForPropagationAsync(FlagChangeResult applied, CancellationToken cancellationToken) => Task.FromResult(propagate());

        public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken) => inner.GetEnvironmentsAsync(cancellationToken);

        public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken) => inner.GetFlagsAsync(environment, flag, cancellationToken);

        public Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken) => inner.ApplyAsync(change, cancellationToken);

        public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken) => inner.PreviewAsync(change, cancellationToken);
    }
}
