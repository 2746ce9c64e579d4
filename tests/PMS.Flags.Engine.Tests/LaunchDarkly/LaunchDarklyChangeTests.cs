using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

public sealed class LaunchDarklyChangeTests
{
    [Fact]
    public async Task SetPercentage_sends_one_semantic_patch_naming_every_weight_with_the_comment()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", 40m), CancellationToken.None);

        var requests = kit.State.Requests;
        Assert.Equal(new[] { "GET", "PATCH" }, requests.Select(r => r.Method));
        var patch = Assert.Single(kit.Patches);
        Assert.Equal("/api/v2/flags/pms/new-billing", patch.Path);
        Assert.Equal("", patch.Query);
        Assert.Equal("application/json; domain-model=launchdarkly.semanticpatch", patch.Headers["Content-Type"]);
        Assert.All(requests, r => Assert.Equal("20240415", r.Headers["LD-API-Version"]));
        Assert.All(requests, r => Assert.Equal("valid", r.Authorization)); // the raw token, no "Bearer" prefix

        var body = JObject.Parse(patch.Body!);
        Assert.Equal("production", (string?)body["environmentKey"]);
        Assert.Contains("CHG-4711", (string?)body["comment"]);
        Assert.Contains("ramp after canary review", (string?)body["comment"]);
        var instructions = (JArray)body["instructions"]!;
        Assert.Equal(new[] { "turnFlagOn", "updateFallthroughVariationOrRollout" }, instructions.Select(i => (string?)i["kind"]));
        var weights = (JObject)instructions[1]["rolloutWeights"]!;
        Assert.Equal(40000, (int)weights[NewBillingTrueId]!);
        Assert.Equal(60000, (int)weights[NewBillingFalseId]!);
        Assert.Equal(2, weights.Count);
        Assert.Equal(100000, weights.Properties().Sum(p => (int)p.Value));
        Assert.Equal("key", (string?)instructions[1]["rolloutBucketBy"]);
        Assert.Equal("user", (string?)instructions[1]["rolloutContextKind"]);
        Assert.Null(instructions[1]["variationId"]);

        Assert.True(result.Changed);
        Assert.Equal(25m, result.Previous!.Percentage);
        Assert.Equal("12", result.Previous.Version);
        Assert.Equal(40m, result.Current.Percentage);
        Assert.True(result.Current.On);
        Assert.Equal("13", result.Current.Version);
        Assert.Equal("fallthrough", result.Current.ServedBy);

        var audit = Assert.Single(kit.State.Audit);
        Assert.Equal("PMS.Flags: CHG-4711 — ramp after canary review", audit.Comment);
        Assert.Equal(13, kit.Version("new-billing", "production"));
    }

    [Fact]
    public async Task SetPercentage_keeps_the_rollouts_context_kind_and_bucket_attribute()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(SetPercentage("telehealth-video", "production", 45.5m), CancellationToken.None);

        var instruction = JObject.Parse(Assert.Single(kit.Patches).Body!)["instructions"]![1]!;
        Assert.Equal("organization", (string?)instruction["rolloutContextKind"]);
        Assert.Equal("tenantId", (string?)instruction["rolloutBucketBy"]);
        Assert.Equal(100000, ((JObject)instruction["rolloutWeights"]!).Properties().Sum(p => (int)p.Value));
        Assert.Equal(45.5m, result.Current.Percentage);
        var rollout = kit.Config("telehealth-video", "production")["fallthrough"]!["rollout"]!;
        Assert.Equal("organization", (string?)rollout["contextKind"]);
        Assert.Equal("tenantId", (string?)rollout["bucketBy"]);
    }

    [Theory]
    [InlineData(0, NewBillingFalseId)]
    [InlineData(100, NewBillingTrueId)]
    public async Task Zero_and_one_hundred_percent_are_a_single_variation(int percentage, string expectedVariationId)
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", percentage), CancellationToken.None);

        var instruction = JObject.Parse(Assert.Single(kit.Patches).Body!)["instructions"]![1]!;
        Assert.Equal(expectedVariationId, (string?)instruction["variationId"]);
        Assert.Null(instruction["rolloutWeights"]);
        Assert.Equal(percentage, result.Current.Percentage);
        Assert.True(result.Current.On);
        var fallthrough = (JObject)kit.Config("new-billing", "production")["fallthrough"]!;
        Assert.Null(fallthrough["rollout"]);
        Assert.Equal(percentage == 100 ? 0 : 1, (int)fallthrough["variation"]!);
    }

    [Fact]
    public async Task True_variation_is_found_by_value_not_position()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var before = (await store.GetFlagsAsync("production", "lab-results-v2", CancellationToken.None))[0];
        var result = await store.ApplyAsync(SetPercentage("lab-results-v2", "production", 30m), CancellationToken.None);

        Assert.Equal(100m, before.Percentage);
        Assert.Equal(0m, before.OffPercentage); // offVariation 0 is the false variation here
        var weights = (JObject)JObject.Parse(Assert.Single(kit.Patches).Body!)["instructions"]![1]!["rolloutWeights"]!;
        Assert.Equal(30000, (int)weights["c27d3a8f-7a01-4b5f-8ac8-8e9fa0b1c2d7"]!);
        Assert.Equal(70000, (int)weights["b16c2f7e-6f90-4a4e-9fb7-7d8e9fa0b1c6"]!);
        Assert.Equal(30m, result.Current.Percentage);
    }

    [Fact]
    public async Task A_rule_is_targeted_by_its_id_and_the_fallthrough_is_left_alone()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        var fallthroughBefore = kit.Config("new-billing", "production")["fallthrough"]!.DeepClone();

        var result = await store.ApplyAsync(SetPercentage("new-billing", "production", 10m, NewBillingRuleId), CancellationToken.None);

        var instruction = JObject.Parse(Assert.Single(kit.Patches).Body!)["instructions"]![1]!;
        Assert.Equal("updateRuleVariationOrRollout", (string?)instruction["kind"]);
        Assert.Equal(NewBillingRuleId, (string?)instruction["ruleId"]);
        Assert.Equal(10000, (int)instruction["rolloutWeights"]![NewBillingTrueId]!);
        Assert.Equal(100m, result.Previous!.Percentage); // the rule served the true variation
        Assert.Equal(10m, result.Current.Percentage);
        Assert.Equal(NewBillingRuleId, result.Current.ServedBy);
        Assert.True(JToken.DeepEquals(fallthroughBefore, kit.Config("new-billing", "production")["fallthrough"]));
        var rule = (JObject)kit.Config("new-billing", "production")["rules"]![0]!;
        Assert.Equal(10000, (int)rule["rollout"]!["variations"]![0]!["weight"]!);
        Assert.Null(rule["variation"]);
    }

    [Fact]
    public async Task An_unknown_rule_is_refused_before_any_patch()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var error = await Assert.ThrowsAsync<Common.FlagsException>(() => store.ApplyAsync(SetPercentage("new-billing", "production", 10m, "no-such-rule"), CancellationToken.None));

        Assert.Equal("RuleNotFound", error.ErrorId);
        Assert.Contains(NewBillingRuleId, error.Message);
        Assert.Empty(kit.Patches);
    }

    [Fact]
    public async Task TurnOff_is_exactly_one_request()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(TurnOff("new-billing", "production"), CancellationToken.None);

        var only = Assert.Single(kit.State.Requests);
        Assert.Equal("PATCH", only.Method);
        var body = JObject.Parse(only.Body!);
        Assert.Equal(new[] { "turnFlagOff" }, ((JArray)body["instructions"]!).Select(i => (string?)i["kind"]));
        Assert.Contains("INC-99", (string?)body["comment"]);
        Assert.Null(result.Previous);
        Assert.False(result.Current.On);
        Assert.Equal(0m, result.Current.OffPercentage);
        Assert.Equal(0m, result.Current.EffectivePercentage);
        Assert.Equal(25m, result.Current.Percentage); // the fallthrough keeps its rollout for when the flag is back on
        Assert.False(kit.Config("new-billing", "production")["on"]!.Value<bool>());
        Assert.Single(kit.State.Audit);
    }

    [Fact]
    public async Task TurnOff_of_a_non_boolean_flag_still_switches_it_off_and_reports_no_percentage()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(TurnOff("checkout-theme", "production"), CancellationToken.None);

        Assert.Single(kit.State.Requests);
        Assert.False(result.Current.On);
        Assert.Null(result.Current.Percentage);
        Assert.Null(result.Current.EffectivePercentage);
        Assert.Contains(kit.Log.Lines, l => l.StartsWith("WARNING:", StringComparison.Ordinal) && l.Contains("not a boolean", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TurnOn_reads_then_sends_turnFlagOn()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var result = await store.ApplyAsync(TurnOn("patient-portal-v2", "production"), CancellationToken.None);

        Assert.Equal(new[] { "GET", "PATCH" }, kit.State.Requests.Select(r => r.Method));
        Assert.Equal(new[] { "turnFlagOn" }, ((JArray)JObject.Parse(kit.Patches[0].Body!)["instructions"]!).Select(i => (string?)i["kind"]));
        Assert.False(result.Previous!.On);
        Assert.True(result.Current.On);
        Assert.True(result.Changed);
    }

    [Fact]
    public async Task Preview_uses_dryRun_and_changes_nothing()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();
        var before = kit.Flag("new-billing");

        var preview = await store.PreviewAsync(SetPercentage("new-billing", "production", 60m), CancellationToken.None);
        var offPreview = await store.PreviewAsync(TurnOff("new-billing", "production"), CancellationToken.None);

        Assert.All(kit.Patches, p => Assert.Equal("?dryRun=true", p.Query));
        Assert.Equal(2, kit.Patches.Count);
        Assert.Equal(60m, preview.Current.Percentage);
        Assert.Equal(25m, preview.Previous!.Percentage);
        Assert.True(preview.Changed);
        Assert.False(offPreview.Current.On);
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task The_same_change_twice_changes_the_flag_once()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var first = await store.ApplyAsync(SetPercentage("new-billing", "production", 50m), CancellationToken.None);
        var second = await store.ApplyAsync(SetPercentage("new-billing", "production", 50m), CancellationToken.None);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(13, kit.Version("new-billing", "production"));
        Assert.Single(kit.State.Audit);
    }

    [Theory]
    [InlineData(-1, "PercentageOutOfRange")]
    [InlineData(100.5, "PercentageOutOfRange")]
    [InlineData(12.3456, "PercentageTooPrecise")]
    public async Task Bad_percentages_are_refused_without_a_request(double percentage, string errorId)
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        var store = kit.Store();

        var error = await Assert.ThrowsAsync<Common.FlagsException>(() => store.ApplyAsync(SetPercentage("new-billing", "production", (decimal)percentage), CancellationToken.None));

        Assert.Equal(errorId, error.ErrorId);
        Assert.Empty(kit.State.Requests);
    }
}
