using System.Diagnostics;
using System.Net;
using System.Text;
using Newtonsoft.Json.Linq;
using PMS.Flags.TestServers.LaunchDarkly;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

/// <summary>The stand-in refuses what LaunchDarkly refuses, or it proves nothing. Requests here are raw HTTP.</summary>
public sealed class LaunchDarklyStandInTests
{
    private const string Semantic = "application/json; domain-model=launchdarkly.semanticpatch";

    [Fact]
    public async Task The_playbooks_one_weight_json_patch_is_rejected_and_changes_nothing()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);
        var before = kit.Flag("new-billing");

        var (status, body) = await PatchAsync(http, "new-billing", "application/json",
            """[{"op":"replace","path":"/environments/production/fallthrough/rollout/variations/0/weight","value":5000}]""");

        Assert.Equal(400, status);
        Assert.Equal("invalid_request", (string?)body["code"]);
        Assert.Contains("100000", (string?)body["message"]);
        Assert.False(string.IsNullOrEmpty((string?)body["id"]));
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task A_json_patch_whose_test_fails_is_a_409_and_applies_nothing()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);

        var (status, body) = await PatchAsync(http, "new-billing", "application/json", """
            {"comment":"x","patch":[
              {"op":"test","path":"/environments/production/version","value":11},
              {"op":"replace","path":"/environments/production/on","value":false}]}
            """);

        Assert.Equal(409, status);
        Assert.Equal("optimistic_locking_error", (string?)body["code"]);
        Assert.True(kit.Config("new-billing", "production")["on"]!.Value<bool>());
    }

    [Fact]
    public async Task A_complete_json_patch_with_a_passing_test_is_applied_once_with_its_comment()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);

        var (status, body) = await PatchAsync(http, "new-billing", "application/json", """
            {"comment":"CHG-1 both weights","patch":[
              {"op":"test","path":"/environments/production/version","value":12},
              {"op":"replace","path":"/environments/production/fallthrough/rollout/variations/0/weight","value":5000},
              {"op":"replace","path":"/environments/production/fallthrough/rollout/variations/1/weight","value":95000}]}
            """);

        Assert.Equal(200, status);
        Assert.Equal(13, (long)body["environments"]!["production"]!["version"]!);
        Assert.Equal("CHG-1 both weights", Assert.Single(kit.State.Audit).Comment);
    }

    [Theory]
    [InlineData("""{"environmentKey":"production","instructions":[{"kind":"updateFallthroughVariationOrRollout","rolloutWeights":{"e432f62b-55f6-49dd-a02f-eb24acf39d05":30000,"a00bf58d-d252-476c-b915-15a74becacb4":60000}}]}""", "sum to 100000")]
    [InlineData("""{"environmentKey":"production","instructions":[{"kind":"updateFallthroughVariationOrRollout","variationId":"nope"}]}""", "Unknown variation id")]
    [InlineData("""{"environmentKey":"production","instructions":[{"kind":"makeItSo"}]}""", "instruction kind")]
    [InlineData("""{"environmentKey":"production","instructions":[{"kind":"updateRuleVariationOrRollout","ruleId":"nope","variationId":"e432f62b-55f6-49dd-a02f-eb24acf39d05"}]}""", "Rule 'nope'")]
    [InlineData("""{"environmentKey":"production","instructions":[]}""", "instructions")]
    public async Task Invalid_semantic_patches_are_400_and_change_nothing(string patch, string expected)
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);
        var before = kit.Flag("new-billing");

        var (status, body) = await PatchAsync(http, "new-billing", Semantic, patch);

        Assert.Equal(400, status);
        Assert.Equal("invalid_request", (string?)body["code"]);
        Assert.Contains(expected, (string?)body["message"]);
        Assert.True(JToken.DeepEquals(before, kit.Flag("new-billing")));
    }

    [Fact]
    public async Task Dry_run_answers_the_would_be_flag_without_a_version_bump()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);

        var (status, body) = await PatchAsync(http, "new-billing?dryRun=true", Semantic, """{"environmentKey":"production","instructions":[{"kind":"turnFlagOff"}]}""");

        Assert.Equal(200, status);
        Assert.False((bool)body["environments"]!["production"]!["on"]!);
        Assert.Equal(12, (long)body["environments"]!["production"]!["version"]!);
        Assert.True(kit.Config("new-billing", "production")["on"]!.Value<bool>());
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task Missing_authorization_is_a_401_with_LaunchDarklys_error_body_and_a_bearer_prefix_is_not_the_token()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = new HttpClient { BaseAddress = kit.StandIn.BaseUri };

        var missing = await http.GetAsync("/api/v2/flags/pms/new-billing?env=production");
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/v2/flags/pms/new-billing?env=production");
        bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        var withBearer = await http.SendAsync(bearer);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        var body = JObject.Parse(await missing.Content.ReadAsStringAsync());
        Assert.Equal("unauthorized", (string?)body["code"]);
        Assert.NotNull(body["message"]);
        Assert.NotNull(body["id"]);
        Assert.Equal(HttpStatusCode.Unauthorized, withBearer.StatusCode);
        Assert.Equal(new[] { "missing", "invalid" }, kit.State.Requests.Select(r => r.Authorization));
        Assert.DoesNotContain(Token, JArray.FromObject(kit.State.Requests).ToString());
    }

    [Fact]
    public async Task The_control_api_injects_faults_counts_attempts_and_resets()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Http(kit);

        var injected = await http.PostAsync("/_control/faults", new StringContent("""{"kind":"503","count":2}""", Encoding.UTF8, "application/json"));
        var first = await http.GetAsync("/api/v2/projects/pms");
        var second = await http.GetAsync("/api/v2/projects/pms");
        var third = await http.GetAsync("/api/v2/projects/pms");
        var requests = JObject.Parse(await http.GetStringAsync("/_control/requests"));
        await PatchAsync(http, "new-billing", Semantic, """{"environmentKey":"production","comment":"via control test","instructions":[{"kind":"turnFlagOff"}]}""");
        var audit = JObject.Parse(await http.GetStringAsync("/_control/audit"));
        await http.PostAsync("/_control/reset", null);
        var afterReset = JObject.Parse(await http.GetStringAsync("/_control/audit"));

        Assert.Equal(HttpStatusCode.OK, injected.StatusCode);
        Assert.Equal(new[] { HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK }, new[] { first.StatusCode, second.StatusCode, third.StatusCode });
        Assert.Equal(3, ((JArray)requests["items"]!).Count);
        Assert.Equal("503", (string?)requests["items"]![0]!["fault"]);
        Assert.Equal("via control test", (string?)audit["items"]![0]!["comment"]);
        Assert.Empty((JArray)afterReset["items"]!);
        Assert.True(kit.Config("new-billing", "production")["on"]!.Value<bool>());
    }

    [Fact]
    public async Task A_seed_replaces_the_default_projects_and_fills_what_it_leaves_out()
    {
        const string seed = """
            {"projects":[{"key":"other","environments":[{"key":"dev"},{"key":"live","approvalsRequired":true}],
              "flags":[{"key":"f","kind":"boolean","variations":[{"value":true},{"value":false}],
                        "environments":{"dev":{"on":true,"fallthrough":{"variation":0}}}}]}]}
            """;
        await using var standIn = await LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token, SeedJson = seed });

        var flag = standIn.State.PeekFlag("other", "f")!;

        Assert.Null(standIn.State.PeekFlag("pms", "new-billing"));
        Assert.Equal(new[] { "dev", "live" }, ((JObject)flag["environments"]!).Properties().Select(p => p.Name));
        Assert.False(string.IsNullOrEmpty((string?)flag["variations"]![0]!["_id"]));
        Assert.Equal(1, (long)flag["environments"]!["live"]!["version"]!);
        Assert.False((bool)flag["environments"]!["live"]!["on"]!);
    }

    [Fact]
    public async Task Started_as_a_process_it_prints_its_url_first_and_serves()
    {
        var dll = typeof(LaunchDarklyStandIn).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "launchdarkly", "--token", Token })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        try
        {
            var firstLine = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotNull(firstLine);
            Assert.Matches("^LISTENING http://127\\.0\\.0\\.1:[0-9]+$", firstLine);
            using var http = new HttpClient { BaseAddress = new Uri(firstLine!["LISTENING ".Length..]) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/projects/pms/environments");
            request.Headers.TryAddWithoutValidation("Authorization", Token);
            var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await http.PostAsync("/_control/shutdown", null);
            Assert.True(process.WaitForExit(10_000), "the stand-in stops on POST /_control/shutdown");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static HttpClient Http(LaunchDarklyTestKit kit)
    {
        var http = new HttpClient { BaseAddress = kit.StandIn.BaseUri };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Token);
        return http;
    }

    private static async Task<(int Status, JObject Body)> PatchAsync(HttpClient http, string flagAndQuery, string contentType, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v2/flags/pms/{flagAndQuery}")
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, JObject.Parse(await response.Content.ReadAsStringAsync()));
    }
}
