using System.Net;
using System.Text;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags.LaunchDarkly;
using PMS.Flags.TestServers.Backend;
using PMS.Flags.TestServers.LaunchDarkly;
using static PMS.Flags.Engine.Tests.LaunchDarkly.LaunchDarklyTestKit;

namespace PMS.Flags.Engine.Tests.LaunchDarkly;

/// <summary>
/// One case per refusal the LaunchDarkly stand-in makes, each asserting the status, LaunchDarkly's error code and the
/// reason, and that no flag of the project changed and nothing was audited. A stand-in that stops refusing something the
/// real service refuses turns a case here red.
/// </summary>
public sealed class LaunchDarklyStandInRefusalTests
{
    private const string Semantic = "application/json; domain-model=launchdarkly.semanticpatch";
    private const string Json = "application/json";
    private const string On = NewBillingTrueId;
    private const string Off = NewBillingFalseId;

    /// <summary>A raw request and the refusal LaunchDarkly answers it with.</summary>
    public sealed record Refusal(string Method, string Path, int Status, string Code, string Reason, string? ContentType = null, string? Body = null, string Auth = "valid", string? ApiVersion = null);

    private static Refusal SemanticPatch(string instructions, int status, string code, string reason, string environment = "production", string flag = "new-billing")
        => new("PATCH", $"/api/v2/flags/pms/{flag}", status, code, reason, Semantic, $$"""{"environmentKey":"{{environment}}","instructions":[{{instructions}}]}""");

    private static Refusal JsonPatch(string operations, string reason, int status = 400, string code = "invalid_request", string query = "")
        => new("PATCH", "/api/v2/flags/pms/new-billing" + query, status, code, reason, Json, "[" + operations + "]");

    private static readonly Dictionary<string, Refusal> Refusals = new()
    {
        // The gate in front of every API request.
        ["no Authorization header"] = new("GET", "/api/v2/flags/pms/new-billing", 401, "unauthorized", "Missing Authorization", Auth: "missing"),
        ["an unknown access token"] = new("GET", "/api/v2/flags/pms/new-billing", 401, "unauthorized", "Invalid access token", Auth: "invalid"),
        ["a read-only token writing"] = SemanticPatch("""{"kind":"turnFlagOff"}""", 403, "forbidden", "denied") with { Auth = "read-only" },
        ["a malformed LD-API-Version"] = new("GET", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "LD-API-Version", ApiVersion: "2024-04-15"),
        ["an unknown resource"] = new("GET", "/api/v2/no-such-thing", 404, "not_found", "No such resource"),
        // Reads.
        ["an unknown project"] = new("GET", "/api/v2/projects/nope", 404, "not_found", "Unknown project key 'nope'"),
        ["an unknown flag"] = new("GET", "/api/v2/flags/pms/nope", 404, "not_found", "Unknown feature flag key 'nope'"),
        ["a flag status in an unknown environment"] = new("GET", "/api/v2/flag-statuses/pms/nowhere/new-billing", 404, "not_found", "Unknown environment key 'nowhere'"),
        ["a flag list limit that is no number"] = new("GET", "/api/v2/flags/pms?limit=many", 400, "invalid_request", "'many' is not a number"),
        ["a flag list limit below 1"] = new("GET", "/api/v2/flags/pms?limit=0", 400, "invalid_request", "limit must be at least 1"),
        ["a negative flag list offset"] = new("GET", "/api/v2/flags/pms?offset=-1", 400, "invalid_request", "offset at least 0"),
        ["an environment list limit below 1"] = new("GET", "/api/v2/projects/pms/environments?limit=0", 400, "invalid_request", "limit must be at least 1"),
        ["an environment list offset that is no number"] = new("GET", "/api/v2/projects/pms/environments?offset=x", 400, "invalid_request", "'x' is not a number"),
        // Any PATCH.
        ["a PATCH of an unknown flag"] = SemanticPatch("""{"kind":"turnFlagOff"}""", 404, "not_found", "Unknown feature flag key 'nope'", flag: "nope"),
        ["an unsupported Content-Type"] = new("PATCH", "/api/v2/flags/pms/new-billing", 415, "unsupported_media_type", "Unsupported Content-Type", "text/plain", "turn it off"),
        ["a body that is not JSON"] = new("PATCH", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "The body is not JSON", Json, "{not json"),
        // Semantic patches.
        ["a semantic patch without instructions"] = new("PATCH", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "non-empty 'instructions'", Semantic, """{"environmentKey":"production"}"""),
        ["a semantic patch with an empty instruction list"] = new("PATCH", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "non-empty 'instructions'", Semantic, """{"environmentKey":"production","instructions":[]}"""),
        ["a semantic patch without environmentKey"] = new("PATCH", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "environmentKey is required", Semantic, """{"instructions":[{"kind":"turnFlagOff"}]}"""),
        ["a semantic patch for an unknown environment"] = SemanticPatch("""{"kind":"turnFlagOff"}""", 404, "not_found", "Unknown environment key 'nowhere'", environment: "nowhere"),
        ["an instruction that is not an object"] = SemanticPatch("1", 400, "invalid_request", "Every instruction must be an object"),
        ["an instruction without a kind"] = SemanticPatch($$"""{"variationId":"{{On}}"}""", 400, "invalid_request", "needs a string 'kind'"),
        ["an unknown instruction kind"] = SemanticPatch("""{"kind":"makeItSo"}""", 400, "invalid_request", "Unknown or unsupported instruction kind 'makeItSo'"),
        ["a rule update without ruleId"] = SemanticPatch($$"""{"kind":"updateRuleVariationOrRollout","variationId":"{{On}}"}""", 400, "invalid_request", "requires ruleId"),
        ["a rule update of an unknown rule"] = SemanticPatch($$"""{"kind":"updateRuleVariationOrRollout","ruleId":"nope","variationId":"{{On}}"}""", 400, "invalid_request", "Rule 'nope' does not exist"),
        ["both variationId and rolloutWeights"] = SemanticPatch($$$"""{"kind":"updateFallthroughVariationOrRollout","variationId":"{{{On}}}","rolloutWeights":{"{{{On}}}":100000}}""", 400, "invalid_request", "exactly one of variationId and rolloutWeights"),
        ["neither variationId nor rolloutWeights"] = SemanticPatch("""{"kind":"updateFallthroughVariationOrRollout"}""", 400, "invalid_request", "exactly one of variationId and rolloutWeights"),
        ["rolloutWeights that are not an object"] = SemanticPatch("""{"kind":"updateFallthroughVariationOrRollout","rolloutWeights":[100000]}""", 400, "invalid_request", "rolloutWeights must be an object"),
        ["rolloutWeights naming an unknown variation"] = SemanticPatch($$$"""{"kind":"updateFallthroughVariationOrRollout","rolloutWeights":{"nope":50000,"{{{Off}}}":50000}}""", 400, "invalid_request", "unknown variation id 'nope'"),
        ["a rollout weight that is no integer"] = SemanticPatch($$$"""{"kind":"updateFallthroughVariationOrRollout","rolloutWeights":{"{{{On}}}":50000.5,"{{{Off}}}":49999.5}}""", 400, "invalid_request", "must be an integer from 0 to 100000"),
        ["rollout weights that do not sum to 100000"] = SemanticPatch($$$"""{"kind":"updateFallthroughVariationOrRollout","rolloutWeights":{"{{{On}}}":30000,"{{{Off}}}":60000}}""", 400, "invalid_request", "they sum to 90000"),
        ["a variationId that is not a string"] = SemanticPatch("""{"kind":"updateOffVariation","variationId":1}""", 400, "invalid_request", "variationId must be a variation's _id"),
        ["an unknown variationId"] = SemanticPatch("""{"kind":"updateOffVariation","variationId":"nope"}""", 400, "invalid_request", "Unknown variation id"),
        ["a semantic patch in an environment that requires approvals"] = SemanticPatch("""{"kind":"turnFlagOn"}""", 405, "method_not_allowed", "require approval", environment: "approvals"),
        ["a semantic dry run in an environment that requires approvals"] = SemanticPatch("""{"kind":"turnFlagOn"}""", 405, "method_not_allowed", "require approval", environment: "approvals") with { Path = "/api/v2/flags/pms/new-billing?dryRun=true" },
        // JSON Patches.
        ["a JSON Patch that is neither an array nor {comment, patch}"] = new("PATCH", "/api/v2/flags/pms/new-billing", 400, "invalid_request", "A JSON Patch is an array", Json, """{"comment":"no patch"}"""),
        ["a JSON Patch without operations"] = JsonPatch("", "no operations"),
        ["an operation without a string op"] = JsonPatch("""{"op":1,"path":"/name"}""", "string 'op' and 'path'"),
        ["a path that is not a JSON pointer"] = JsonPatch("""{"op":"replace","path":"name","value":"x"}""", "is not a JSON pointer"),
        ["a failing test operation"] = JsonPatch("""{"op":"test","path":"/environments/production/version","value":11},{"op":"replace","path":"/environments/production/on","value":false}""", "test of '/environments/production/version' failed", 409, "optimistic_locking_error"),
        ["a replace without a value"] = JsonPatch("""{"op":"replace","path":"/name"}""", "'replace' needs a value"),
        ["a replace of what does not exist"] = JsonPatch("""{"op":"replace","path":"/environments/staging/fallthrough/rollout","value":{}}""", "Cannot replace '/environments/staging/fallthrough/rollout'"),
        ["an add without a value"] = JsonPatch("""{"op":"add","path":"/description"}""", "'add' needs a value"),
        ["an add under a parent that does not exist"] = JsonPatch("""{"op":"add","path":"/environments/staging/fallthrough/rollout/variations/0","value":{}}""", "its parent does not exist"),
        ["a remove of what does not exist"] = JsonPatch("""{"op":"remove","path":"/environments/staging/fallthrough/rollout"}""", "Cannot remove '/environments/staging/fallthrough/rollout'"),
        ["an unsupported operation"] = JsonPatch("""{"op":"move","from":"/name","path":"/description"}""", "Unsupported patch operation 'move'"),
        ["a path that cannot be patched"] = JsonPatch("""{"op":"replace","path":"/key","value":"renamed"}""", "'/key' cannot be changed with a patch"),
        ["a path into an unknown environment"] = JsonPatch("""{"op":"replace","path":"/environments/nowhere/on","value":true}""", "Unknown environment 'nowhere'"),
        ["a JSON Patch in an environment that requires approvals"] = JsonPatch("""{"op":"replace","path":"/environments/approvals/on","value":true}""", "require approval in 'approvals'", 405, "method_not_allowed"),
        ["a JSON Patch dry run in an environment that requires approvals"] = JsonPatch("""{"op":"replace","path":"/environments/approvals/on","value":true}""", "require approval in 'approvals'", 405, "method_not_allowed", "?dryRun=true"),
        // The flag LaunchDarkly would store after a JSON Patch must still be a valid flag.
        ["'on' that is not a boolean"] = JsonPatch("""{"op":"replace","path":"/environments/production/on","value":"yes"}""", "'on' in 'production' must be a boolean"),
        ["an offVariation out of range"] = JsonPatch("""{"op":"replace","path":"/environments/production/offVariation","value":5}""", "offVariation in 'production' must be a variation index"),
        ["a fallthrough removed"] = JsonPatch("""{"op":"remove","path":"/environments/production/fallthrough"}""", "The fallthrough of 'production' is missing"),
        ["a fallthrough with a variation and a rollout"] = JsonPatch("""{"op":"add","path":"/environments/production/fallthrough/variation","value":0}""", "must hold exactly one of 'variation' and 'rollout'"),
        ["a fallthrough variation out of range"] = JsonPatch("""{"op":"replace","path":"/environments/staging/fallthrough/variation","value":7}""", "The variation of the fallthrough of 'staging' must be an index"),
        ["a rollout without slices"] = JsonPatch("""{"op":"replace","path":"/environments/production/fallthrough/rollout/variations","value":[]}""", "needs a non-empty 'variations' array"),
        ["two slices for one variation"] = JsonPatch("""{"op":"replace","path":"/environments/production/fallthrough/rollout/variations/1/variation","value":0}""", "must name a distinct variation index"),
        ["a slice weight that is no integer"] = JsonPatch("""{"op":"replace","path":"/environments/production/fallthrough/rollout/variations/0/weight","value":"25000"}""", "must be an integer from 0 to 100000"),
        ["the playbook's one-weight patch"] = JsonPatch("""{"op":"replace","path":"/environments/production/fallthrough/rollout/variations/0/weight","value":5000}""", "they sum to 80000"),
        ["rules that are not an array"] = JsonPatch("""{"op":"replace","path":"/environments/production/rules","value":{}}""", "rules in 'production' must be an array"),
        ["a rule without an _id"] = JsonPatch("""{"op":"add","path":"/environments/production/rules/-","value":{"variation":0,"clauses":[]}}""", "unique string _id"),
        ["a rule variation out of range"] = JsonPatch("""{"op":"replace","path":"/environments/production/rules/0/variation","value":9}""", $"The variation of rule '{NewBillingRuleId}' in 'production' must be an index"),
    };

    public static TheoryData<string> RefusalNames => new(Refusals.Keys);

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public async Task Every_refusal_answers_LaunchDarklys_status_and_code_and_changes_no_flag(string name)
    {
        var refusal = Refusals[name];
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = new HttpClient { BaseAddress = kit.StandIn.BaseUri };
        var before = AllFlags(kit.State);

        var (status, body) = await SendAsync(http, refusal);

        Assert.Equal(refusal.Status, status);
        Assert.Equal(refusal.Code, (string?)body["code"]);
        Assert.Contains(refusal.Reason, (string?)body["message"]);
        Assert.False(string.IsNullOrEmpty((string?)body["id"]));
        Assert.True(JToken.DeepEquals(before, AllFlags(kit.State)), "a refused request changed a flag");
        Assert.Empty(kit.State.Audit);
        Assert.Equal(refusal.Status, Assert.Single(kit.State.Requests).Status);
    }

    [Fact]
    public void Every_case_is_a_distinct_request()
    {
        var requests = Refusals.Values.Select(r => (r.Method, r.Path, r.ContentType, r.Body, r.Auth, r.ApiVersion)).ToList();

        Assert.Equal(requests.Count, requests.Distinct().Count());
    }

    [Theory]
    [InlineData("429-reset", "X-Ratelimit-Reset")]
    [InlineData("429-retry-after", "Retry-After")]
    public async Task A_request_inside_the_429_window_is_refused_again_and_marked_early(string kind, string header)
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.Fault(kind, resetMs: 60_000, retryAfterSeconds: 60);
        var before = AllFlags(kit.State);

        using var first = await http.GetAsync("/api/v2/flags/pms/new-billing");
        using var inside = await http.GetAsync("/api/v2/flags/pms/new-billing");
        var patch = await SendAsync(http, SemanticPatch("""{"kind":"turnFlagOff"}""", 429, "rate_limited", "too many requests"));

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, inside.StatusCode);
        Assert.Equal("rate_limited", (string?)JObject.Parse(await inside.Content.ReadAsStringAsync())["code"]);
        Assert.True(inside.Headers.Contains(header), $"the window's answer carries {header}");
        Assert.Equal("0", inside.Headers.GetValues("X-Ratelimit-Route-Remaining").Single());
        Assert.Equal(429, patch.Status);
        Assert.Equal("rate_limited", (string?)patch.Body["code"]);
        var requests = kit.State.Requests;
        Assert.Equal(new[] { kind, "429-window", "429-window" }, requests.Select(r => r.Fault));
        Assert.Equal(new[] { false, true, true }, requests.Select(r => r.Early));
        Assert.True(JToken.DeepEquals(before, AllFlags(kit.State)));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task The_429_window_closes_when_its_reset_has_passed()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.Fault("429-reset", resetMs: 300);

        using var first = await http.GetAsync("/api/v2/flags/pms/new-billing");
        var reset = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(first.Headers.GetValues("X-Ratelimit-Reset").Single()));
        while (kit.State.Faults.ActiveRateLimit(DateTimeOffset.UtcNow) is not null)
        {
            await Task.Delay(20);
        }

        using var after = await http.GetAsync("/api/v2/flags/pms/new-billing");

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.True(kit.State.Requests[1].Time >= reset.AddMilliseconds(-1));
        Assert.False(kit.State.Requests[1].Early);
    }

    [Theory]
    [InlineData("500", 500, "internal_server_error")]
    [InlineData("502", 502, "internal_server_error")]
    [InlineData("503", 503, "service_unavailable")]
    [InlineData("504", 504, "internal_server_error")]
    [InlineData("409", 409, "optimistic_locking_error")]
    public async Task An_injected_fault_before_the_request_answers_its_status_and_changes_nothing(string kind, int status, string code)
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.Fault(kind);
        var before = AllFlags(kit.State);

        var (answered, body) = await SendAsync(http, SemanticPatch("""{"kind":"turnFlagOff"}""", status, code, ""));

        Assert.Equal(status, answered);
        Assert.Equal(code, (string?)body["code"]);
        Assert.True(JToken.DeepEquals(before, AllFlags(kit.State)));
        Assert.Empty(kit.State.Audit);
        Assert.Equal(kind, Assert.Single(kit.State.Requests).Fault);
    }

    [Fact]
    public async Task A_dropped_connection_before_the_request_changes_nothing()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.Fault("drop");
        var before = AllFlags(kit.State);

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(http, SemanticPatch("""{"kind":"turnFlagOff"}""", 0, "", "")));

        Assert.True(JToken.DeepEquals(before, AllFlags(kit.State)));
        Assert.Empty(kit.State.Audit);
        Assert.Equal(0, Assert.Single(kit.State.Requests).Status);
    }

    [Fact]
    public async Task A_fault_after_the_request_loses_the_answer_but_the_change_is_made()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.Fault("503", phase: "after");

        var (status, body) = await SendAsync(http, SemanticPatch("""{"kind":"turnFlagOff"}""", 503, "service_unavailable", ""));

        Assert.Equal(503, status);
        Assert.Equal("service_unavailable", (string?)body["code"]);
        Assert.False(kit.Config("new-billing", "production")["on"]!.Value<bool>());
        Assert.Single(kit.State.Audit);
    }

    [Fact]
    public async Task A_change_that_would_break_a_pending_scheduled_change_is_a_400_unless_conflicts_are_ignored()
    {
        // LaunchDarkly's REST API reference, "Update feature flag", query parameter ignoreConflicts: a change that would
        // cause a pending scheduled change or approval request to fail is answered with a 400; ignoreConflicts=true
        // makes it apply anyway.
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        using var http = Authorized(kit);
        kit.State.AddPendingChange(Project, "new-billing", "production", "scheduledChange");
        var before = AllFlags(kit.State);
        var turnOff = SemanticPatch("""{"kind":"turnFlagOff"}""", 400, "invalid_request", "pending scheduled change");

        var refused = await SendAsync(http, turnOff);
        var refusedDryRun = await SendAsync(http, turnOff with { Path = turnOff.Path + "?dryRun=true" });
        var noChange = await SendAsync(http, SemanticPatch("""{"kind":"turnFlagOn"}""", 200, "", ""));
        var changedAfter = AllFlags(kit.State);
        var otherEnvironment = await SendAsync(http, SemanticPatch("""{"kind":"turnFlagOff"}""", 200, "", "", environment: "staging"));
        var ignored = await SendAsync(http, turnOff with { Path = turnOff.Path + "?ignoreConflicts=true" });

        Assert.Equal(400, refused.Status);
        Assert.Equal("invalid_request", (string?)refused.Body["code"]);
        Assert.Contains("pending scheduled change", (string?)refused.Body["message"]);
        Assert.Contains("ignoreConflicts=true", (string?)refused.Body["message"]);
        Assert.Equal(400, refusedDryRun.Status);
        Assert.Equal(200, noChange.Status); // already on: nothing would change, so nothing conflicts
        Assert.True(JToken.DeepEquals(before, changedAfter), "a refused conflicting change changed a flag");
        Assert.Equal(200, otherEnvironment.Status);
        Assert.Equal(200, ignored.Status);
        Assert.False(kit.Config("new-billing", "production")["on"]!.Value<bool>());
        Assert.Equal(new[] { "staging", "production" }, kit.State.Audit.Select(a => a.Environments.Single()));
    }

    [Fact]
    public async Task The_store_reports_a_pending_change_conflict_as_Rejected_with_nothing_changed()
    {
        await using var kit = await LaunchDarklyTestKit.StartAsync();
        kit.State.AddPendingChange(Project, "new-billing", "production", "approvalRequest");
        var before = AllFlags(kit.State);
        var store = kit.Store();

        var error = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(SetPercentage("new-billing", "production", 50m), CancellationToken.None));

        Assert.Equal(LaunchDarklyErrorIds.Rejected, error.ErrorId);
        Assert.Contains("pending approval request", error.Message);
        Assert.False(error.ChangeWasMade);
        Assert.True(JToken.DeepEquals(before, AllFlags(kit.State)));
        Assert.Empty(kit.State.Audit);
    }

    [Fact]
    public async Task An_unknown_environment_in_a_flag_read_is_a_404_when_the_stand_in_is_told_so()
    {
        await using var standIn = await LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token, UnknownEnvironmentIs404 = true });
        using var http = new HttpClient { BaseAddress = standIn.BaseUri };
        var before = AllFlags(standIn.State);

        var (status, body) = await SendAsync(http, new Refusal("GET", "/api/v2/flags/pms/new-billing?env=nowhere", 404, "not_found", ""));

        Assert.Equal(404, status);
        Assert.Equal("not_found", (string?)body["code"]);
        Assert.Contains("Unknown environment key 'nowhere'", (string?)body["message"]);
        Assert.True(JToken.DeepEquals(before, AllFlags(standIn.State)));
    }

    [Theory]
    [InlineData("""{"key":"f","variations":[{"value":true}]}""", "at least two variations")]
    [InlineData("""{"key":"f","variations":[{"value":true},{"value":false}],"environments":{"ghost":5}}""", "Environment 'ghost' is not an object")]
    public async Task A_seed_with_an_invalid_flag_is_refused_at_start(string flag, string reason)
    {
        var seed = $$"""{"projects":[{"key":"p","environments":[{"key":"dev"}],"flags":[{{flag}}]}]}""";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LaunchDarklyStandIn.StartAsync(new LaunchDarklyStandInOptions { Token = Token, SeedJson = seed }));

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void A_flag_without_an_environments_object_is_invalid()
    {
        var flag = JObject.Parse("""{"key":"f","variations":[{"value":true},{"value":false}]}""");

        Assert.Equal("The flag has no environments object.", FlagValidator.Problem(flag));
    }

    [Fact]
    public async Task The_backend_stand_in_refuses_its_flag_status_without_the_bearer_token()
    {
        using var directory = new Support.TempDirectory();
        var flagFile = Path.Combine(directory.Path, "feature_flags.json");
        File.WriteAllText(flagFile, """{ "production": { "new_billing_engine": true } }""");
        await using var backend = await BackendStandIn.StartAsync(new BackendStandInOptions { FlagFile = flagFile, Flag = "new_billing_engine", Environment = "production", Token = "backend-secret", RequestsPerSecond = 1 });
        using var http = new HttpClient { BaseAddress = backend.BaseUri };

        using var missing = await http.GetAsync("/api/v1/feature-flags/status");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feature-flags/status");
        wrong.Headers.TryAddWithoutValidation("Authorization", "Bearer not-the-token");
        using var wrongAnswer = await http.SendAsync(wrong);
        using var bare = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feature-flags/status");
        bare.Headers.TryAddWithoutValidation("Authorization", "backend-secret");
        using var bareAnswer = await http.SendAsync(bare);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/api/v1/feature-flags/status");
        right.Headers.TryAddWithoutValidation("Authorization", "Bearer backend-secret");
        using var rightAnswer = await http.SendAsync(right);

        foreach (var refused in new[] { missing, wrongAnswer, bareAnswer })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("unauthorized", (string?)JObject.Parse(await refused.Content.ReadAsStringAsync())["error"]);
        }

        Assert.Equal(HttpStatusCode.OK, rightAnswer.StatusCode);
        Assert.Equal("""{ "production": { "new_billing_engine": true } }""", File.ReadAllText(flagFile));
    }

    private static JObject AllFlags(LaunchDarklyStandInState state)
    {
        var all = new JObject();
        foreach (var project in (JArray)JObject.Parse(LaunchDarklyStandInState.DefaultSeed())["projects"]!)
        {
            foreach (var flag in (JArray)project["flags"]!)
            {
                var key = $"{project["key"]}/{flag["key"]}";
                all[key] = state.PeekFlag((string)project["key"]!, (string)flag["key"]!);
            }
        }

        return all;
    }

    private static HttpClient Authorized(LaunchDarklyTestKit kit)
    {
        var http = new HttpClient { BaseAddress = kit.StandIn.BaseUri };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Token);
        return http;
    }

    private static async Task<(int Status, JObject Body)> SendAsync(HttpClient http, Refusal refusal)
    {
        using var request = new HttpRequestMessage(new HttpMethod(refusal.Method), refusal.Path);
        if (!http.DefaultRequestHeaders.Contains("Authorization"))
        {
            var token = refusal.Auth switch { "valid" => Token, "read-only" => ReadOnlyToken, "invalid" => "api-not-a-real-token", _ => null };
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", token);
            }
        }

        if (refusal.ApiVersion is not null)
        {
            request.Headers.TryAddWithoutValidation("LD-API-Version", refusal.ApiVersion);
        }

        if (refusal.Body is not null)
        {
            request.Content = new StringContent(refusal.Body, Encoding.UTF8);
            request.Content.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", refusal.ContentType);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? new JObject() : JObject.Parse(text));
    }
}
