using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;
using PMS.Flags.Engine.Tests.Support;
using static PMS.Flags.Engine.Tests.Support.Documents;

namespace PMS.Flags.Engine.Tests.Readiness;

/// <summary>The checklist lives in the ledger: approvals are decided on what it holds, and the gate writes its override before any change.</summary>
public sealed class ChecklistServiceTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Two_approvals_of_one_item_at_once_record_exactly_one()
    {
        using var f = new AuditFixture(Seed);
        await new ChecklistService(f.Store, f.Audit).CreateAsync("new_ui", "production", ChecklistTemplate.Playbook, null, "creator", null, None);

        var attempts = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            try
            {
                await new ChecklistService(f.Store, new AuditTrail(f.Ledger, f.Audit.Spool, NullOperationLog.Instance)).ApproveAsync("new_ui", "production", "security-review", "evidence", $"reviewer-{i}", null, null, None);
                return "approved";
            }
            catch (FlagsException ex)
            {
                return ex.ErrorId;
            }
        })).ToArray();
        var outcomes = await Task.WhenAll(attempts);

        Assert.Equal(1, outcomes.Count(o => o == "approved"));
        Assert.All(outcomes.Where(o => o != "approved"), o => Assert.Equal("ChecklistItemAlreadyApproved", o));
        Assert.Single(f.LedgerEvents, e => e.EventType == ChecklistEventTypes.ItemApproved);
    }

    [Fact]
    public async Task Four_eyes_holds_in_a_protected_environment_only()
    {
        using var f = new AuditFixture(Seed);
        var service = new ChecklistService(f.Store, f.Audit);
        await service.CreateAsync("new_ui", "production", ChecklistTemplate.Playbook, null, "alice", null, None);
        await service.CreateAsync("new_ui", "staging", ChecklistTemplate.Playbook, null, "alice", null, None);
        var before = f.LedgerEvents.Length;

        var ex = await Assert.ThrowsAsync<FlagsException>(() => service.ApproveAsync("new_ui", "production", "security-review", "x", "ALICE", null, null, None));
        var own = await service.ApproveAsync("new_ui", "staging", "security-review", "x", "alice", null, null, None);

        Assert.Equal("ChecklistFourEyesViolation", ex.ErrorId);
        Assert.Equal(ChecklistItemState.Approved, own.State);
        Assert.Equal(before + 1, f.LedgerEvents.Length);
    }

    [Fact]
    public async Task Approvals_belong_to_the_checklist_they_were_given_for()
    {
        using var f = new AuditFixture(Seed);
        var service = new ChecklistService(f.Store, f.Audit);
        var first = await service.CreateAsync("new_ui", "production", ChecklistTemplate.Playbook, null, "alice", null, None);
        await service.ApproveAsync("new_ui", "production", "security-review", "x", "bob", null, null, None);
        var second = await service.CreateAsync("new_ui", "production", ChecklistTemplate.Playbook, null, "alice", null, None);

        Assert.NotEqual(first.ChecklistId, second.ChecklistId);
        Assert.Equal(ChecklistItemState.Pending, second.Items.Single(i => i.Item == "security-review").State);
        var approval = f.LedgerEvents.Single(e => e.EventType == ChecklistEventTypes.ItemApproved);
        Assert.Equal(first.ChecklistId, (string?)JObject.Parse(approval.Details!)["checklist_id"]);
    }

    [Fact]
    public async Task The_gate_refuses_without_writing_and_an_override_is_recorded_before_it_returns()
    {
        using var f = new AuditFixture(Seed);
        var gate = new ReadinessGate(f.Store, f.Audit, environmentVariables: _ => null);

        var refused = await Assert.ThrowsAsync<FlagsException>(() => gate.EnsureReadyAsync("new_ui", "production", null, null, "alice", "T-1", None));
        Assert.Equal("FlagNotReady", refused.ErrorId);
        Assert.Empty(f.LedgerEvents);

        var policy = await gate.EnsureReadyAsync("new_ui", "production", null, "deadline", "alice", "T-1", None);
        var overridden = Assert.Single(f.LedgerEvents);
        Assert.Equal(ChecklistEventTypes.ReadinessOverridden, overridden.EventType);
        Assert.Equal("deadline", overridden.Reason);
        Assert.Equal("overridden", (string?)policy["verdict"]);
        Assert.Equal(overridden.EventId, (string?)policy["override_event_id"]);
    }

    [Fact]
    public async Task An_override_the_ledger_cannot_take_is_no_override()
    {
        using var f = new AuditFixture(Seed, ledgerUnwritable: true);
        var gate = new ReadinessGate(f.Store, f.Audit, environmentVariables: _ => null);

        await Assert.ThrowsAnyAsync<Exception>(() => gate.EnsureReadyAsync("new_ui", "production", null, "deadline", "alice", "T-1", None));

        Assert.Empty(f.SpoolFiles);
    }

    [Fact]
    public async Task The_gate_switched_off_by_its_variable_lets_through_and_says_so()
    {
        using var f = new AuditFixture(Seed);

        var policy = await new ReadinessGate(f.Store, f.Audit, environmentVariables: name => name == ReadinessGate.SwitchVariable ? "off" : null).EnsureReadyAsync("new_ui", "production", null, null, "alice", "T-1", None);

        Assert.Equal("gate_off", (string?)policy["verdict"]);
        Assert.Empty(f.LedgerEvents);
    }

    [Fact]
    public async Task An_unprotected_environment_is_not_gated_and_needs_no_ticket()
    {
        using var f = new AuditFixture(Seed);

        var policy = await new ReadinessGate(f.Store, f.Audit, environmentVariables: _ => null).EnsureReadyAsync("new_ui", "staging", null, null, "alice", null, None);

        Assert.Equal("not_gated", (string?)policy["verdict"]);
        Assert.Empty(f.LedgerEvents);
    }

    [Fact]
    public async Task A_production_change_without_a_ticket_is_refused_before_readiness_is_judged()
    {
        using var f = new AuditFixture(Seed);

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new ReadinessGate(f.Store, f.Audit, environmentVariables: _ => null).EnsureReadyAsync("new_ui", "production", null, "deadline", "alice", null, None));

        Assert.Equal("ApprovalTicketRequired", ex.ErrorId);
        Assert.Empty(f.LedgerEvents);
    }
}
