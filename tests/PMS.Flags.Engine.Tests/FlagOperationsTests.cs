using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>Validate, make sure the change can be audited, change, record; switching off never waits for the ledger.</summary>
public sealed class FlagOperationsTests : IDisposable
{
    private const string Document = "{\n  \"staging\": { \"checkout_v2\": false, \"search_v3\": true },\n  \"production\": { \"checkout_v2\": { \"enabled\": true, \"rollout_percentage\": 10 }, \"search_v3\": true }\n}\n";
    private readonly List<AuditFixture> fixtures = new();

    public void Dispose() => fixtures.ForEach(f => f.Dispose());

    private AuditFixture Fixture(bool ledgerUnwritable = false)
    {
        var fixture = new AuditFixture(Document, ledgerUnwritable);
        fixtures.Add(fixture);
        return fixture;
    }

    private static FlagMutation Mutation(string environment, FlagChangeKind kind, decimal? percentage = null, string? reason = "canary looks healthy", string? ticket = null, string flag = "checkout_v2") => new()
    {
        Flag = flag,
        Environment = environment,
        Kind = kind,
        Percentage = percentage,
        Reason = reason,
        ApprovalTicket = ticket,
        User = "alice@pms.example",
    };

    [Theory]
    [InlineData(FlagChangeKind.SetPercentage, null)]
    [InlineData(FlagChangeKind.TurnOn, null)]
    [InlineData(FlagChangeKind.SetPercentage, "")]
    [InlineData(FlagChangeKind.SetPercentage, "   ")]
    public async Task A_production_change_without_a_ticket_is_refused_and_nothing_is_touched(FlagChangeKind kind, string? ticket)
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var ex = await Assert.ThrowsAsync<FlagsException>(() => f.Operations.ChangeAsync(Mutation("production", kind, 50m, ticket: ticket), CancellationToken.None));

        Assert.Equal("ApprovalTicketRequired", ex.ErrorId);
        Assert.Equal(FlagsErrorKind.PermissionDenied, ex.Kind);
        Assert.Equal(before, f.DocumentBytes);
        Assert.False(File.Exists(f.LedgerPath));
        Assert.Empty(f.SpoolFiles);
    }

    [Fact]
    public void Protected_environments_are_matched_case_insensitively()
    {
        var f = Fixture();
        var store = new LocalFileFlagStore(f.DocumentPath, protectedEnvironments: new[] { "Production", "STAGING" });

        var ex = Assert.Throws<FlagsException>(() => FlagOperations.Validate(store, Mutation("staging", FlagChangeKind.SetPercentage, 5m)));

        Assert.Equal("ApprovalTicketRequired", ex.ErrorId);
        Assert.True(FlagOperations.IsProtected(store, "production"));
        Assert.False(FlagOperations.IsProtected(store, "development"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  \t")]
    public async Task An_empty_reason_is_refused(string? reason)
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var ex = await Assert.ThrowsAsync<FlagsException>(() => f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.SetPercentage, 5m, reason: reason), CancellationToken.None));

        Assert.Equal("ReasonRequired", ex.ErrorId);
        Assert.Equal(before, f.DocumentBytes);
        Assert.False(File.Exists(f.LedgerPath));
    }

    [Fact]
    public async Task A_percentage_change_without_a_percentage_is_refused()
    {
        var f = Fixture();

        var ex = await Assert.ThrowsAsync<FlagsException>(() => f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.SetPercentage, null), CancellationToken.None));

        Assert.Equal("PercentageRequired", ex.ErrorId);
    }

    [Fact]
    public async Task A_production_change_with_a_ticket_is_applied_and_recorded_with_every_field()
    {
        var f = Fixture();

        var record = await f.Operations.ChangeAsync(Mutation("production", FlagChangeKind.SetPercentage, 25m, ticket: "CHG-1001"), CancellationToken.None);

        Assert.True(record.Changed);
        Assert.True(record.On);
        Assert.Equal(25m, record.Percentage);
        Assert.Equal(10m, record.PreviousPercentage);
        Assert.Equal(1, record.AuditSequence);
        Assert.False(record.AuditSpooled);
        Assert.Equal(25m, (await f.StateAsync("production", "checkout_v2")).Percentage);

        var line = JObject.Parse(File.ReadAllLines(f.LedgerPath).Single());
        foreach (var field in Events.PlaybookFields)
        {
            Assert.True(line.ContainsKey(field), field);
        }

        Assert.Equal("feature_flag_toggled", (string?)line["event_type"]);
        Assert.Equal("alice@pms.example", (string?)line["user_id"]);
        Assert.Equal("checkout_v2", (string?)line["feature_flag"]);
        Assert.True((bool?)line["previous_state"]);
        Assert.True((bool?)line["new_state"]);
        Assert.Equal("production", (string?)line["environment"]);
        Assert.Equal("canary looks healthy", (string?)line["reason"]);
        Assert.Equal(25m, (decimal?)line["rollout_percentage"]);
        Assert.Equal(10m, (decimal?)line["previous_percentage"]);
        Assert.Equal("CHG-1001", (string?)line["approval_ticket"]);
        Assert.Equal("applied", (string?)line["outcome"]);
        Assert.Equal(f.Store.Identity, (string?)line["store"]);
        Assert.Equal(25m, (decimal?)line["details"]!["requested_percentage"]);
        Assert.True(f.Ledger.Verify(CancellationToken.None).Valid);
    }

    [Fact]
    public async Task TurnOff_in_production_needs_no_ticket()
    {
        var f = Fixture();

        var record = await f.Operations.ChangeAsync(Mutation("production", FlagChangeKind.TurnOff), CancellationToken.None);

        Assert.True(record.Changed);
        Assert.False(record.On);
        Assert.False((await f.StateAsync("production", "checkout_v2")).On);
        var recorded = f.LedgerEvents.Single();
        Assert.Null(recorded.ApprovalTicket);
        Assert.False(recorded.NewState);
        Assert.True(recorded.PreviousState);
        Assert.Equal(0m, recorded.RolloutPercentage);
    }

    [Fact]
    public async Task Staging_changes_need_no_ticket()
    {
        var f = Fixture();

        var record = await f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.TurnOn), CancellationToken.None);

        Assert.True(record.On);
        Assert.Equal(1, record.AuditSequence);
    }

    [Fact]
    public async Task An_unchanged_flag_is_still_recorded_as_unchanged()
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var record = await f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.TurnOn, flag: "search_v3"), CancellationToken.None);

        Assert.False(record.Changed);
        Assert.Equal(before, f.DocumentBytes);
        Assert.Equal("unchanged", f.LedgerEvents.Single().Outcome);
    }

    [Fact]
    public async Task Preview_validates_and_changes_nothing()
    {
        var f = Fixture();
        var before = f.DocumentBytes;

        var preview = await f.Operations.PreviewAsync(Mutation("staging", FlagChangeKind.SetPercentage, 30m), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<FlagsException>(() => f.Operations.PreviewAsync(Mutation("production", FlagChangeKind.SetPercentage, 30m), CancellationToken.None));

        Assert.True(preview.Changed);
        Assert.Equal(30m, preview.Current.Percentage);
        Assert.Equal("ApprovalTicketRequired", refused.ErrorId);
        Assert.Equal(before, f.DocumentBytes);
        Assert.False(File.Exists(f.LedgerPath));
    }

    [Theory]
    [InlineData(FlagChangeKind.SetPercentage)]
    [InlineData(FlagChangeKind.TurnOn)]
    public async Task A_change_that_cannot_be_audited_does_not_happen(FlagChangeKind kind)
    {
        var f = Fixture(ledgerUnwritable: true);
        var before = f.DocumentBytes;

        var ex = await Assert.ThrowsAsync<LedgerException>(() => f.Operations.ChangeAsync(Mutation("staging", kind, 40m), CancellationToken.None));

        Assert.Equal("LedgerUnwritable", ex.ErrorId);
        Assert.Equal(LedgerFailure.Unavailable, ex.Failure);
        Assert.Equal(FlagsErrorKind.WriteError, ex.Kind);
        Assert.Equal(before, f.DocumentBytes);
        Assert.Empty(f.SpoolFiles);
        Assert.Empty(Documents.TempFiles(Path.GetDirectoryName(f.DocumentPath)!));
    }

    [Fact]
    public async Task TurnOff_with_an_unwritable_ledger_happens_and_spools_its_event_which_is_flushed_first_later()
    {
        var f = Fixture(ledgerUnwritable: true);

        var off = await f.Operations.ChangeAsync(Mutation("production", FlagChangeKind.TurnOff, reason: "error rate 4%"), CancellationToken.None);

        Assert.True(off.Changed);
        Assert.False(off.On);
        Assert.True(off.AuditSpooled);
        Assert.Null(off.AuditSequence);
        Assert.False((await f.StateAsync("production", "checkout_v2")).On);
        var spooled = Assert.Single(f.SpoolFiles);
        var spooledEvent = AuditEventCodec.ParseLine(File.ReadAllText(spooled));
        Assert.Equal("error rate 4%", spooledEvent.Reason);
        Assert.False(spooledEvent.NewState);

        f.UnblockLedger();
        var next = await f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.SetPercentage, 5m, reason: "next step"), CancellationToken.None);

        Assert.False(next.AuditSpooled);
        Assert.Equal(2, next.AuditSequence);
        Assert.Empty(f.SpoolFiles);
        var events = f.LedgerEvents;
        Assert.Equal(2, events.Length);
        Assert.Equal(spooledEvent.EventId, events[0].EventId);
        Assert.Equal(1, events[0].Sequence);
        Assert.Equal("error rate 4%", events[0].Reason);
        Assert.Equal(spooledEvent.Timestamp, events[0].Timestamp);
        Assert.Equal("next step", events[1].Reason);
        var verification = f.Ledger.Verify(CancellationToken.None);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(2, verification.Count);
    }

    [Fact]
    public async Task An_unknown_flag_is_refused_before_anything_is_recorded()
    {
        var f = Fixture();

        var ex = await Assert.ThrowsAsync<FlagsException>(() => f.Operations.ChangeAsync(Mutation("staging", FlagChangeKind.TurnOn, flag: "nope"), CancellationToken.None));

        Assert.Equal("FlagNotFound", ex.ErrorId);
        Assert.Empty(f.LedgerEvents);
    }
}
