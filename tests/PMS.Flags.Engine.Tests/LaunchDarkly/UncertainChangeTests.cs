using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

/// <summary>
/// Nothing changed without a record: when LaunchDarkly applies a write and the connection then drops on every attempt,
/// the change may have been made, and it is recorded as such before the error reaches the caller. An emergency rollback
/// in that situation reports the flag off (read back), never "failed".
/// </summary>
public sealed class UncertainChangeTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private (AuditTrail Audit, JsonlLedger Ledger) Trail()
    {
        var ledger = new JsonlLedger(temp.Combine("audit.jsonl"));
        return (new AuditTrail(ledger, new AuditSpool(temp.Combine("spool")), NullOperationLog.Instance), ledger);
    }

    private static FlagMutation Mutation(FlagChangeKind kind, decimal? percentage = null) => new()
    {
        Flag = "new-billing",
        Environment = "production",
        Kind = kind,
        Percentage = percentage,
        Reason = "incident INC-7",
        ApprovalTicket = "CHG-1",
        User = "oncall@pms.example",
    };

    [Fact]
    public async Task A_write_applied_then_dropped_on_every_attempt_is_recorded_as_unknown_before_the_error()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var (audit, ledger) = Trail();
        kit.Fault("drop", count: 50, method: "PATCH", phase: "after");

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new FlagOperations(kit.Store(budget: TimeSpan.FromSeconds(3)), audit).ChangeAsync(Mutation(FlagChangeKind.SetPercentage, 70m), None));

        Assert.True(ex.ChangeMayHaveBeenMade);
        Assert.Contains("recorded as 'unknown'", ex.Message);
        var recorded = Assert.Single(ledger.Read(AuditQuery.All, None));
        Assert.Equal("feature_flag_toggled", recorded.EventType);
        Assert.Equal("unknown", recorded.Outcome);
        Assert.Equal("launchdarkly:pms", recorded.Store);
        Assert.NotEmpty(kit.State.Audit); // the stand-in did apply it
    }

    [Fact]
    public async Task An_emergency_rollback_whose_answer_is_lost_reports_the_flag_off_and_never_failed()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var (audit, ledger) = Trail();
        kit.Fault("drop", count: 50, method: "PATCH", phase: "after");

        var result = await new EmergencyRollback(kit.Store(budget: TimeSpan.FromSeconds(3)), audit).RunAsync(Mutation(FlagChangeKind.TurnOff), None);

        Assert.True(result.FlagOff);
        Assert.True(result.Verified);
        Assert.True(result.Recorded);
        var events = ledger.Read(AuditQuery.All, None).ToArray();
        Assert.Equal(new[] { ("feature_flag_toggled", "unknown"), ("emergency_rollback", "succeeded") }, events.Select(e => (e.EventType, e.Outcome!)));
        Assert.DoesNotContain(events, e => e.Outcome == "failed");
    }

    [Fact]
    public async Task A_store_error_that_says_the_change_was_made_is_recorded_as_applied_unconfirmed()
    {
        var (audit, ledger) = Trail();
        var store = new ThrowingAfterWriteStore(new FlagsException("LaunchDarklyUnexpectedResponse", FlagsErrorKind.InvalidData, "answer unreadable; the change WAS made") { ChangeWasMade = true });

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new FlagOperations(store, audit).ChangeAsync(Mutation(FlagChangeKind.SetPercentage, 40m), None));

        Assert.True(ex.ChangeWasMade);
        Assert.Contains("applied_unconfirmed", ex.Message);
        var recorded = Assert.Single(ledger.Read(AuditQuery.All, None));
        Assert.Equal(("applied_unconfirmed", 40m, (bool?)true), (recorded.Outcome!, recorded.RolloutPercentage!.Value, recorded.NewState));
    }

    private sealed class ThrowingAfterWriteStore : IFlagStore
    {
        private readonly FlagsException failure;

        public ThrowingAfterWriteStore(FlagsException failure) => this.failure = failure;

        public string Kind => "Test";

        public string Name => "Test:store";

        public string Identity => "test:store";

        public string? DefaultEnvironment => null;

        public IReadOnlyCollection<string> ProtectedEnvironments => new[] { "production" };

        public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>(new[] { "production" });

        public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
            => Task.FromResult<IReadOnlyList<FlagState>>(new[] { new FlagState(flag!, environment, true, 40m, Name) });

        public Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken) => Task.FromException<FlagChangeResult>(failure);

        public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken) => Task.FromException<FlagChangeResult>(failure);
    }
}
