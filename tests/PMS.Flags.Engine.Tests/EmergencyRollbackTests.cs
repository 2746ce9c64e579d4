using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>The flag goes off first, then the change is recorded (or spooled) and verified, with timings per step.</summary>
public sealed class EmergencyRollbackTests : IDisposable
{
    private const string Document = "{\n  \"production\": {\n    \"checkout_v2\": { \"enabled\": true, \"rollout_percentage\": 50, \"owner\": \"payments\" },\n    \"search_v3\": false\n  }\n}\n";
    private readonly List<AuditFixture> fixtures = new();

    public void Dispose() => fixtures.ForEach(f => f.Dispose());

    private AuditFixture Fixture(bool ledgerUnwritable = false)
    {
        var fixture = new AuditFixture(Document, ledgerUnwritable);
        fixtures.Add(fixture);
        return fixture;
    }

    private static FlagMutation Request(string flag = "checkout_v2", string? reason = "error rate above 5%") => new()
    {
        Flag = flag,
        Environment = "production",
        Kind = FlagChangeKind.SetPercentage, // the rollback turns it off whatever was asked
        Percentage = 80m,
        Reason = reason,
        User = "oncall@pms.example",
    };

    [Fact]
    public async Task A_flag_at_fifty_percent_goes_off_verified_within_the_sla()
    {
        var f = Fixture();

        var result = await new EmergencyRollback(f.Store, f.Audit).RunAsync(Request(), CancellationToken.None);

        Assert.False((await f.StateAsync("production", "checkout_v2")).On);
        Assert.Equal("payments", (string?)Documents.Parse(f.DocumentPath)["production"]!["checkout_v2"]!["owner"]);
        Assert.NotNull(result.FlagOffAt);
        Assert.True(result.StartedAt <= result.FlagOffAt);
        Assert.True(result.FlagOffAt <= result.CompletedAt);
        Assert.True(result.Verified);
        Assert.True(result.WithinSla);
        Assert.False(result.AuditSpooled);
        Assert.True(result.PreviousOn);
        Assert.Equal(50m, result.PreviousPercentage);
        Assert.Equal(TimeSpan.Zero, result.StartedAt.Offset);
        Assert.Equal(new[] { "FlagOff", "Audit", "Verify" }, result.Steps.Select(s => s.Name));
        Assert.All(result.Steps, s => Assert.Equal("Succeeded", s.Status));
        Assert.Equal("switched off", result.Steps[0].Message);
    }

    [Fact]
    public async Task The_ledger_gets_the_toggle_and_the_rollback_summary_with_its_steps()
    {
        var f = Fixture();

        var result = await new EmergencyRollback(f.Store, f.Audit).RunAsync(Request(), CancellationToken.None);

        var events = f.LedgerEvents;
        Assert.Equal(new[] { "feature_flag_toggled", "emergency_rollback" }, events.Select(e => e.EventType));
        Assert.All(events, e => Assert.Equal("checkout_v2", e.FeatureFlag));
        Assert.All(events, e => Assert.Equal("error rate above 5%", e.Reason));
        Assert.All(events, e => Assert.Equal("oncall@pms.example", e.UserId));
        Assert.All(events, e => Assert.False(e.NewState));
        Assert.All(events, e => Assert.Equal(0m, e.RolloutPercentage));
        Assert.All(events, e => Assert.Equal(50m, e.PreviousPercentage));
        Assert.Equal("TurnOff", (string?)JObject.Parse(events[0].Details!)["change"]);
        Assert.Equal("emergency_rollback", (string?)JObject.Parse(events[0].Details!)["procedure"]);

        Assert.Equal(result.AuditSequence, events[1].Sequence);
        Assert.Equal("succeeded", events[1].Outcome);
        var details = JObject.Parse(events[1].Details!);
        var steps = (JArray)details["steps"]!;
        Assert.Equal(new[] { "FlagOff", "Audit", "Verify" }, steps.Select(s => (string?)s["name"]));
        Assert.All(steps, s => Assert.Equal("Succeeded", (string?)s["status"]));
        Assert.All(steps, s => Assert.True((long)s["duration_ms"]! >= 0));
        Assert.NotEqual(JTokenType.Null, details["flag_off_at"]!.Type);
        Assert.True((long)details["time_to_flag_off_ms"]! >= 0);
        Assert.True(f.Ledger.Verify(CancellationToken.None).Valid);
    }

    [Fact]
    public async Task With_an_unwritable_ledger_the_flag_still_goes_off_and_both_events_are_spooled()
    {
        var f = Fixture(ledgerUnwritable: true);

        var result = await new EmergencyRollback(f.Store, f.Audit).RunAsync(Request(), CancellationToken.None);

        Assert.False((await f.StateAsync("production", "checkout_v2")).On);
        Assert.True(result.AuditSpooled);
        Assert.Null(result.AuditSequence);
        Assert.True(result.Verified);
        Assert.Equal("Spooled", result.Steps.Single(s => s.Name == "Audit").Status);
        Assert.Equal(2, f.SpoolFiles.Length);

        f.UnblockLedger();
        await f.Audit.Spool.FlushAsync(f.Ledger, NullOperationLog.Instance, CancellationToken.None);
        Assert.Equal(new[] { "feature_flag_toggled", "emergency_rollback" }, f.LedgerEvents.Select(e => e.EventType));
        Assert.Empty(f.SpoolFiles);
    }

    [Fact]
    public async Task A_flag_that_is_already_off_is_reported_and_verified()
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var result = await new EmergencyRollback(f.Store, f.Audit).RunAsync(Request("search_v3"), CancellationToken.None);

        Assert.Equal(before, f.DocumentBytes);
        Assert.True(result.Verified);
        Assert.False(result.PreviousOn);
        Assert.Equal("was already off", result.Steps[0].Message);
    }

    [Fact]
    public async Task A_rollback_needs_a_reason_but_no_ticket()
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new EmergencyRollback(f.Store, f.Audit).RunAsync(Request(reason: " "), CancellationToken.None));

        Assert.Equal("ReasonRequired", ex.ErrorId);
        Assert.Equal(before, f.DocumentBytes);
        Assert.Empty(f.LedgerEvents);
    }

    [Fact]
    public async Task A_failed_flag_off_is_recorded_as_a_failed_rollback_and_rethrown()
    {
        var f = Fixture();

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new EmergencyRollback(f.Store, f.Audit).RunAsync(Request("no_such_flag"), CancellationToken.None));

        Assert.Equal("FlagNotFound", ex.ErrorId);
        var recorded = Assert.Single(f.LedgerEvents);
        Assert.Equal("emergency_rollback", recorded.EventType);
        Assert.Equal("failed", recorded.Outcome);
        var details = JObject.Parse(recorded.Details!);
        Assert.Equal("Failed", (string?)details["steps"]![0]!["status"]);
        Assert.Contains("no_such_flag", (string?)details["error"]);
        Assert.Equal(JTokenType.Null, details["flag_off_at"]!.Type);
    }

    [Fact]
    public void WithinSla_needs_a_verified_flag_off_inside_five_minutes()
    {
        var start = DateTimeOffset.UtcNow;
        RollbackResult Result(DateTimeOffset? off, DateTimeOffset done, bool verified) => new()
        {
            Flag = "f",
            Environment = "production",
            Store = "s",
            StartedAt = start,
            FlagOffAt = off,
            CompletedAt = done,
            Verified = verified,
            Steps = Array.Empty<RollbackStep>(),
        };

        Assert.True(Result(start.AddSeconds(1), start.AddMinutes(5), true).WithinSla);
        Assert.False(Result(start.AddSeconds(1), start.AddMinutes(5).AddMilliseconds(1), true).WithinSla);
        Assert.False(Result(start.AddSeconds(1), start.AddSeconds(2), false).WithinSla);
        Assert.False(Result(null, start.AddSeconds(2), true).WithinSla);
        Assert.Equal(TimeSpan.FromSeconds(1), Result(start.AddSeconds(1), start.AddSeconds(2), true).TimeToFlagOff);
    }
}
