using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>The plan on its own: timeline preview, conversion of user input, and its JSON form in rollout_started.</summary>
public sealed class RolloutPlanTests : IDisposable
{
    private readonly RolloutFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public void The_preview_lists_each_stage_with_its_earliest_start_and_the_minimum_total_duration()
    {
        var plan = f.Plan(bake: TimeSpan.FromMinutes(30), guardrails: new[] { RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime() });

        var preview = plan.Preview();

        Assert.Equal(new[] { 1, 2, 3, 4 }, preview.Stages.Select(s => s.Number));
        Assert.Equal(new[] { 5m, 25m, 50m, 100m }, preview.Stages.Select(s => s.Percentage));
        Assert.Equal(new[] { 0, 30, 60, 90 }, preview.Stages.Select(s => (int)s.EarliestStart.TotalMinutes));
        Assert.Equal(TimeSpan.FromHours(2), preview.MinimumTotalDuration);
        Assert.Equal(TimeSpan.FromMinutes(2), preview.CriticalBreachHold);
    }

    [Fact]
    public async Task The_engine_preview_adds_the_current_flag_and_each_guardrail_value_and_changes_nothing()
    {
        var plan = f.Plan(guardrails: new[] { RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime() });
        var before = f.Snapshot();

        var preview = await f.NewEngine().PreviewAsync(plan, CancellationToken.None);

        Assert.False(preview.Current!.On);
        Assert.Equal(new[] { 0.001, 0.35 }, preview.GuardrailResults.Select(r => r.Value!.Value));
        Assert.Equal(new[] { "> 0.05", "> 2" }, preview.GuardrailResults.Select(r => r.ThresholdText));
        Assert.Equal(before.Flags, f.Snapshot().Flags);
        Assert.Null(f.Snapshot().Ledger);
    }

    [Fact]
    public void Stages_from_user_input_keep_their_value_and_refuse_what_is_not_a_percentage()
    {
        Assert.Equal(new[] { 0.5m, 12.5m, 100m }, RolloutPlan.StagesFrom(new[] { 0.5, 12.5, 100 }));
        Assert.Equal("RolloutStageOutOfRange", Assert.Throws<FlagsException>(() => RolloutPlan.StagesFrom(new[] { double.NaN })).ErrorId);
    }

    [Fact]
    public void A_plan_round_trips_through_its_JSON()
    {
        var plan = f.Plan(new[] { 1m, 12.5m, 100m }, TimeSpan.FromSeconds(90), RolloutFixture.HighErrorRate(), RolloutFixture.SlowResponseTime());

        var json = plan.ToJson();
        var rebuilt = RolloutPlan.FromJson(JObject.Parse(json.ToString()));

        Assert.Equal(json.ToString(), rebuilt.ToJson().ToString());
        Assert.Equal("00:01:30", (string?)json["bake_time"]);
        Assert.Equal("[1,12.5,100]", json["stages"]!.ToString(Newtonsoft.Json.Formatting.None));
        Assert.Equal("RolloutPlanUnreadable", Assert.Throws<FlagsException>(() => RolloutPlan.FromJson(JObject.Parse("{\"bake_time\":\"thirty minutes\"}"))).ErrorId);
    }
}
