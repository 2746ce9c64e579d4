using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Migrations;

public sealed class MigrationPlannerTests
{
    private static readonly RevisionGraph Graph = RevisionGraph.Load(new[] { AlembicFixture.VersionsDirectory });

    private static MigrationPlan Plan(string[] current, MigrationAction action, string requested) => MigrationPlanner.Plan(Graph, current, action, requested);

    private static string Refusal(string[] current, MigrationAction action, string requested)
        => Assert.Throws<FlagsException>(() => Plan(current, action, requested)).ErrorId;

    [Fact]
    public void Upgrade_head_from_base_crosses_every_revision_parents_first()
    {
        var plan = Plan(Array.Empty<string>(), MigrationAction.Upgrade, "head");
        Assert.Equal(new[] { "0005" }, plan.Target);
        var order = plan.Crossed.Select(r => r.Revision).ToList();
        Assert.Equal(5, order.Count);
        Assert.Equal("0001", order[0]);
        Assert.Equal("0005", order[^1]);
        Assert.True(order.IndexOf("0004") > order.IndexOf("0002") && order.IndexOf("0004") > order.IndexOf("0003"));
        Assert.Empty(plan.DataLoss);
    }

    [Fact]
    public void Downgrade_one_step_from_head_is_reversible()
    {
        var plan = Plan(new[] { "0005" }, MigrationAction.Downgrade, "-1");
        Assert.Equal(new[] { "0004" }, plan.Target);
        Assert.Equal(new[] { "0005" }, plan.Crossed.Select(r => r.Revision));
        Assert.Empty(plan.DataLoss);
    }

    [Fact]
    public void Downgrade_to_0002_crosses_the_destructive_0003_branch()
    {
        var plan = Plan(new[] { "0005" }, MigrationAction.Downgrade, "0002");
        Assert.Equal(new[] { "0005", "0004", "0003" }, plan.Crossed.Select(r => r.Revision).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(new[] { "0003" }, plan.DataLoss.Select(r => r.Revision));
        var refusal = Assert.Throws<FlagsException>(() => MigrationService.RefuseDataLoss(plan, allowDataLoss: false));
        Assert.Equal(MigrationErrorIds.DataLossRefused, refusal.ErrorId);
        MigrationService.RefuseDataLoss(plan, allowDataLoss: true);
    }

    [Fact]
    public void A_relative_step_from_two_current_heads_is_ambiguous()
        => Assert.Equal(MigrationErrorIds.AmbiguousRevision, Refusal(new[] { "0002", "0003" }, MigrationAction.Downgrade, "-1"));

    [Fact]
    public void A_relative_step_across_a_merge_point_is_ambiguous_as_in_alembic()
        => Assert.Equal(MigrationErrorIds.AmbiguousRevision, Refusal(new[] { "0004" }, MigrationAction.Downgrade, "-1"));

    [Fact]
    public void Unknown_revisions_wrong_directions_and_unknown_current_are_refused()
    {
        Assert.Equal(MigrationErrorIds.RevisionNotFound, Refusal(new[] { "0005" }, MigrationAction.Downgrade, "0099"));
        Assert.Equal(MigrationErrorIds.InvalidDirection, Refusal(new[] { "0002" }, MigrationAction.Downgrade, "0005"));
        Assert.Equal(MigrationErrorIds.InvalidDirection, Refusal(new[] { "0005" }, MigrationAction.Upgrade, "0001"));
        Assert.Equal(MigrationErrorIds.CurrentRevisionUnknown, Refusal(new[] { "dead" }, MigrationAction.Upgrade, "head"));
        Assert.Equal(MigrationErrorIds.RevisionNotFound, Refusal(Array.Empty<string>(), MigrationAction.Downgrade, "-1"));
    }

    [Fact]
    public void Stamp_crosses_nothing_and_so_never_counts_as_data_loss()
    {
        var plan = Plan(new[] { "0005" }, MigrationAction.Stamp, "0001");
        Assert.Empty(plan.Crossed);
        Assert.Empty(plan.DataLoss);
    }
}
