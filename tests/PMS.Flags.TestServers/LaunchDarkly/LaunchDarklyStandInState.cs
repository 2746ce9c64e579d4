using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// The stand-in's in-memory LaunchDarkly: projects with environments and flags in LaunchDarkly's own representation,
/// the audit list of applied changes, the request log and the fault queue. Thread-safe; every read returns copies.
/// </summary>
public sealed class LaunchDarklyStandInState
{
    private readonly object gate = new();
    private readonly string seedJson;
    private readonly List<RecordedRequest> requests = new();
    private readonly List<AuditEntry> audit = new();
    private readonly List<PendingChange> pendingChanges = new();
    private Dictionary<string, Project> projects = new(StringComparer.Ordinal);
    private long requestSequence;
    private long auditSequence;

    public LaunchDarklyStandInState(string? seedJson, bool unknownEnvironmentIs404 = false)
    {
        this.seedJson = seedJson ?? DefaultSeed();
        UnknownEnvironmentIs404 = unknownEnvironmentIs404;
        Faults = new FaultInjector();
        Reset();
    }

    public FaultInjector Faults { get; }

    public bool UnknownEnvironmentIs404 { get; }

    public static string DefaultSeed()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("PMS.Flags.TestServers.LaunchDarkly.default-seed.json")
            ?? throw new InvalidOperationException("The default seed is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Back to the seed; clears the audit list, the request log and pending faults.</summary>
    public void Reset()
    {
        var loaded = LoadSeed(seedJson);
        lock (gate)
        {
            projects = loaded;
            requests.Clear();
            audit.Clear();
            pendingChanges.Clear();
            requestSequence = 0;
            auditSequence = 0;
        }

        Faults.Clear();
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToArray();
            }
        }
    }

    public IReadOnlyList<AuditEntry> Audit
    {
        get
        {
            lock (gate)
            {
                return audit.ToArray();
            }
        }
    }

    /// <summary>
    /// Puts a pending scheduled change or approval request on one flag's environment, as another member would. A PATCH
    /// that changes that environment's configuration would make it fail, so LaunchDarkly answers it with a 400 unless
    /// the request says <c>ignoreConflicts=true</c> (REST API reference, "Update feature flag", query parameter
    /// ignoreConflicts). The stand-in treats every configuration change of that environment as conflicting.
    /// </summary>
    public JObject AddPendingChange(string projectKey, string flagKey, string environmentKey, string kind)
    {
        if (kind is not ("scheduledChange" or "approvalRequest"))
        {
            throw StandInError.Invalid("kind must be 'scheduledChange' or 'approvalRequest'.");
        }

        lock (gate)
        {
            var project = RequireProject(projectKey);
            RequireFlag(project, flagKey);
            RequireEnvironment(project, environmentKey);
            var pending = new PendingChange(StableId("pending", $"{projectKey}/{flagKey}/{environmentKey}/{pendingChanges.Count}"), projectKey, flagKey, environmentKey, kind);
            pendingChanges.Add(pending);
            return pending.ToJson();
        }
    }

    public JArray PendingChanges()
    {
        lock (gate)
        {
            return new JArray(pendingChanges.Select(p => p.ToJson()));
        }
    }

    public void ClearRequests()
    {
        lock (gate)
        {
            requests.Clear();
        }
    }

    public RecordedRequest Record(Func<long, RecordedRequest> create)
    {
        lock (gate)
        {
            var record = create(++requestSequence);
            requests.Add(record);
            return record;
        }
    }

    /// <summary>The stored flag with all environments (a copy), or null; for tests, no auth involved.</summary>
    public JObject? PeekFlag(string projectKey, string flagKey)
    {
        lock (gate)
        {
            return projects.TryGetValue(projectKey, out var project) && project.Flags.TryGetValue(flagKey, out var flag) ? (JObject)flag.DeepClone() : null;
        }
    }

    public JObject GetFlag(string projectKey, string flagKey, IReadOnlyCollection<string> environments)
    {
        lock (gate)
        {
            var project = RequireProject(projectKey);
            var flag = RequireFlag(project, flagKey);
            if (UnknownEnvironmentIs404 && environments.FirstOrDefault(key => project.Environments.All(e => e.Key != key)) is { } unknown)
            {
                throw StandInError.NotFound($"Unknown environment key '{unknown}'.");
            }

            return Present(project, flag, environments.Count == 0 ? null : environments, summary: false);
        }
    }

    public JObject ListFlags(string projectKey, IReadOnlyCollection<string> environments, bool summary, int limit, int offset, string queryWithoutOffset)
    {
        if (limit < 1 || offset < 0)
        {
            throw StandInError.Invalid("limit must be at least 1 and offset at least 0.");
        }

        lock (gate)
        {
            var project = RequireProject(projectKey);
            var visible = project.Flags.Values.Where(f => f["archived"]?.Value<bool>() != true).ToList();
            var page = visible.Skip(offset).Take(limit)
                .Select(f => Present(project, f, environments.Count == 0 ? Array.Empty<string>() : environments, summary))
                .ToList();
            var links = new JObject
            {
                ["self"] = Link($"/api/v2/flags/{projectKey}?{queryWithoutOffset}&offset={offset}"),
            };
            if (offset + limit < visible.Count)
            {
                links["next"] = Link($"/api/v2/flags/{projectKey}?{queryWithoutOffset}&offset={offset + limit}");
            }

            return new JObject { ["items"] = new JArray(page), ["totalCount"] = visible.Count, ["_links"] = links };
        }
    }

    public JObject GetProject(string projectKey, bool expandEnvironments)
    {
        lock (gate)
        {
            var project = RequireProject(projectKey);
            var result = new JObject
            {
                ["_id"] = project.Id,
                ["key"] = project.Key,
                ["name"] = project.Name,
                ["tags"] = new JArray(),
                ["_links"] = new JObject { ["self"] = Link($"/api/v2/projects/{project.Key}"), ["environments"] = Link($"/api/v2/projects/{project.Key}/environments") },
            };
            if (expandEnvironments)
            {
                result["environments"] = new JObject { ["items"] = new JArray(project.Environments.Select(EnvironmentJson)), ["totalCount"] = project.Environments.Count };
            }

            return result;
        }
    }

    public JObject ListEnvironments(string projectKey, int limit, int offset)
    {
        if (limit < 1 || offset < 0)
        {
            throw StandInError.Invalid("limit must be at least 1 and offset at least 0.");
        }

        lock (gate)
        {
            var project = RequireProject(projectKey);
            var links = new JObject { ["self"] = Link($"/api/v2/projects/{projectKey}/environments?limit={limit}&offset={offset}") };
            if (offset + limit < project.Environments.Count)
            {
                links["next"] = Link($"/api/v2/projects/{projectKey}/environments?limit={limit}&offset={offset + limit}");
            }

            return new JObject
            {
                ["items"] = new JArray(project.Environments.Skip(offset).Take(limit).Select(EnvironmentJson)),
                ["totalCount"] = project.Environments.Count,
                ["_links"] = links,
            };
        }
    }

    public JObject GetFlagStatus(string projectKey, string environmentKey, string flagKey)
    {
        lock (gate)
        {
            var project = RequireProject(projectKey);
            RequireEnvironment(project, environmentKey);
            var flag = RequireFlag(project, flagKey);
            var config = (JObject)flag["environments"]![environmentKey]!;
            var on = config["on"]!.Value<bool>();
            var status = new JObject
            {
                ["name"] = on ? "active" : "inactive",
                ["_links"] = new JObject { ["self"] = Link($"/api/v2/flag-statuses/{projectKey}/{environmentKey}/{flagKey}") },
            };
            if (on)
            {
                status["lastRequested"] = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            }

            return status;
        }
    }

    /// <summary>
    /// A PATCH: a semantic patch (<c>domain-model=launchdarkly.semanticpatch</c>) or a JSON Patch (a bare array or
    /// <c>{"comment", "patch"}</c>). Validates like LaunchDarkly, answers with the whole (would-be, for a dry run) flag,
    /// and bumps versions and records an audit entry only when something changed.
    /// </summary>
    public JObject Patch(string projectKey, string flagKey, string? contentType, string body, bool dryRun, bool ignoreConflicts = false)
    {
        var semantic = IsSemanticPatch(contentType, out var mediaType);
        if (!semantic && mediaType is not ("application/json" or "application/json-patch+json"))
        {
            throw new StandInError(415, "unsupported_media_type", $"Unsupported Content-Type '{contentType}'. Use application/json (JSON Patch) or application/json; domain-model=launchdarkly.semanticpatch.");
        }

        JToken document;
        try
        {
            document = JToken.Parse(body);
        }
        catch (JsonException ex)
        {
            throw StandInError.Invalid($"The body is not JSON: {ex.Message}");
        }

        lock (gate)
        {
            var project = RequireProject(projectKey);
            var stored = RequireFlag(project, flagKey);
            var candidate = (JObject)stored.DeepClone();
            string? comment;
            JToken changes;
            IReadOnlyList<string> touched;
            string kind;
            if (semantic)
            {
                if (document is not JObject patch || patch["instructions"] is not JArray instructions || instructions.Count == 0)
                {
                    throw StandInError.Invalid("A semantic patch needs a non-empty 'instructions' array.");
                }

                var environmentKey = patch["environmentKey"]?.Type == JTokenType.String ? (string)patch["environmentKey"]! : null;
                if (string.IsNullOrEmpty(environmentKey))
                {
                    throw StandInError.Invalid("environmentKey is required for these instructions.");
                }

                var environment = project.Environments.FirstOrDefault(e => e.Key == environmentKey)
                    ?? throw StandInError.NotFound($"Unknown environment key '{environmentKey}'.");
                var config = (JObject)candidate["environments"]![environmentKey]!;
                foreach (var instruction in instructions)
                {
                    if (instruction is not JObject instructionObject)
                    {
                        throw StandInError.Invalid("Every instruction must be an object.");
                    }

                    SemanticPatchApplier.Apply(candidate, config, instructionObject);
                }

                if (environment.ApprovalsRequired)
                {
                    throw new StandInError(405, "method_not_allowed", $"Flag configuration updates require approval: action '{ActionName(instructions)}' not allowed");
                }

                comment = patch["comment"]?.Type == JTokenType.String ? (string)patch["comment"]! : null;
                changes = instructions.DeepClone();
                touched = new[] { environmentKey };
                kind = "semantic-patch";
            }
            else
            {
                JArray operations;
                switch (document)
                {
                    case JArray bare:
                        operations = bare;
                        comment = null;
                        break;
                    case JObject wrapped when wrapped["patch"] is JArray inner:
                        operations = inner;
                        comment = wrapped["comment"]?.Type == JTokenType.String ? (string)wrapped["comment"]! : null;
                        break;
                    default:
                        throw StandInError.Invalid("A JSON Patch is an array of operations or {\"comment\": …, \"patch\": [ … ]}.");
                }

                touched = JsonPatchApplier.TouchedEnvironments(operations);
                JsonPatchApplier.Apply(candidate, operations);
                if (touched.Select(key => project.Environments.FirstOrDefault(e => e.Key == key)).FirstOrDefault(e => e?.ApprovalsRequired == true) is { } guarded)
                {
                    throw new StandInError(405, "method_not_allowed", $"Flag configuration updates require approval in '{guarded.Key}'.");
                }

                changes = operations.DeepClone();
                kind = "json-patch";
            }

            if (FlagValidator.Problem(candidate) is { } problem)
            {
                throw StandInError.Invalid(problem);
            }

            var changedEnvironments = ((JObject)candidate["environments"]!).Properties()
                .Where(p => !JToken.DeepEquals(p.Value, stored["environments"]![p.Name]))
                .Select(p => p.Name)
                .ToList();
            var flagLevelChanged = !JToken.DeepEquals(Without(candidate, "environments"), Without(stored, "environments"));
            if (!ignoreConflicts && pendingChanges.FirstOrDefault(p => p.Project == projectKey && p.Flag == flagKey && changedEnvironments.Contains(p.Environment)) is { } conflict)
            {
                throw StandInError.Invalid($"This change would cause a pending {(conflict.Kind == "scheduledChange" ? "scheduled change" : "approval request")} ({conflict.Id}) in '{conflict.Environment}' to fail. Resolve the conflict, or repeat the request with ignoreConflicts=true.");
            }

            if ((changedEnvironments.Count == 0 && !flagLevelChanged) || dryRun)
            {
                return Present(project, dryRun ? candidate : stored, null, summary: false);
            }

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var versions = new Dictionary<string, long[]>();
            foreach (var environmentKey in changedEnvironments)
            {
                var config = (JObject)candidate["environments"]![environmentKey]!;
                var before = config["version"]!.Value<long>();
                config["version"] = before + 1;
                config["lastModified"] = now;
                versions[environmentKey] = new[] { before, before + 1 };
            }

            candidate["_version"] = candidate["_version"]!.Value<long>() + 1;
            project.Flags[flagKey] = candidate;
            audit.Add(new AuditEntry
            {
                Sequence = ++auditSequence,
                Time = DateTimeOffset.UtcNow,
                Project = projectKey,
                Flag = flagKey,
                Environments = changedEnvironments.Count > 0 ? changedEnvironments : touched.ToList(),
                Comment = comment,
                PatchKind = kind,
                Changes = changes,
                Versions = versions,
            });
            return Present(project, candidate, null, summary: false);
        }
    }

    private static bool IsSemanticPatch(string? contentType, out string? mediaType)
    {
        mediaType = null;
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return false;
        }

        mediaType = parsed.MediaType?.ToLowerInvariant();
        return mediaType == "application/json"
            && parsed.Parameters.Any(p => string.Equals(p.Name, "domain-model", StringComparison.OrdinalIgnoreCase)
                && string.Equals(p.Value?.Trim('"'), "launchdarkly.semanticpatch", StringComparison.OrdinalIgnoreCase));
    }

    private static string ActionName(JArray instructions)
        => instructions.OfType<JObject>().Select(i => (string?)i["kind"]).FirstOrDefault() switch
        {
            "turnFlagOn" or "turnFlagOff" => "updateOn",
            "updateFallthroughVariationOrRollout" => "updateFallthrough",
            "updateRuleVariationOrRollout" => "updateRules",
            var other => other ?? "update",
        };

    private static JObject Without(JObject flag, string member)
    {
        var copy = (JObject)flag.DeepClone();
        copy.Remove(member);
        copy.Remove("_version");
        return copy;
    }

    private static JObject Link(string href) => new() { ["href"] = href, ["type"] = "application/json" };

    private static JObject EnvironmentJson(Environment environment) => new()
    {
        ["_id"] = environment.Id,
        ["key"] = environment.Key,
        ["name"] = environment.Name,
        // Real environments carry their SDK and mobile keys; the client must not surface them.
        ["apiKey"] = "sdk-" + environment.Id,
        ["mobileKey"] = "mob-" + environment.Id,
        ["color"] = environment.Color,
        ["defaultTtl"] = 0,
        ["secureMode"] = false,
        ["defaultTrackEvents"] = false,
        ["requireComments"] = false,
        ["confirmChanges"] = false,
        ["tags"] = new JArray(),
        ["critical"] = environment.Critical,
        ["approvalSettings"] = new JObject
        {
            ["required"] = environment.ApprovalsRequired,
            ["bypassApprovalsForPendingChanges"] = false,
            ["minNumApprovals"] = 1,
            ["canReviewOwnRequest"] = false,
            ["canApplyDeclinedChanges"] = true,
            ["serviceKind"] = "launchdarkly",
            ["requiredApprovalTags"] = new JArray(),
        },
        ["_links"] = new JObject { ["self"] = Link($"/api/v2/projects/{environment.ProjectKey}/environments/{environment.Key}") },
    };

    /// <summary>The flag as the API shows it: environments filtered (null = all), rules and targets left out of summaries.</summary>
    private static JObject Present(Project project, JObject flag, IReadOnlyCollection<string>? environments, bool summary)
    {
        var copy = (JObject)flag.DeepClone();
        var all = (JObject)copy["environments"]!;
        var shown = new JObject();
        foreach (var property in all.Properties())
        {
            if (environments is not null && !environments.Contains(property.Name))
            {
                continue;
            }

            var config = (JObject)property.Value.DeepClone();
            if (summary)
            {
                foreach (var member in new[] { "rules", "targets", "contextTargets", "prerequisites" })
                {
                    config.Remove(member);
                }
            }

            shown[property.Name] = config;
        }

        copy["environments"] = shown;
        copy["_links"] = new JObject { ["self"] = Link($"/api/v2/flags/{project.Key}/{flag["key"]}"), ["parent"] = Link($"/api/v2/flags/{project.Key}") };
        return copy;
    }

    private Project RequireProject(string projectKey)
        => projects.TryGetValue(projectKey, out var project) ? project : throw StandInError.NotFound($"Unknown project key '{projectKey}'.");

    private static JObject RequireFlag(Project project, string flagKey)
        => project.Flags.TryGetValue(flagKey, out var flag) ? flag : throw StandInError.NotFound($"Unknown feature flag key '{flagKey}'.");

    private static Environment RequireEnvironment(Project project, string environmentKey)
        => project.Environments.FirstOrDefault(e => e.Key == environmentKey) ?? throw StandInError.NotFound($"Unknown environment key '{environmentKey}'.");

    private static Dictionary<string, Project> LoadSeed(string json)
    {
        var root = JObject.Parse(json);
        var result = new Dictionary<string, Project>(StringComparer.Ordinal);
        foreach (var projectToken in root["projects"] as JArray ?? throw new InvalidOperationException("The seed needs a 'projects' array."))
        {
            var key = (string?)projectToken["key"] ?? throw new InvalidOperationException("Every seeded project needs a key.");
            var project = new Project(key, (string?)projectToken["name"] ?? key, StableId("project", key));
            foreach (var env in projectToken["environments"] as JArray ?? new JArray())
            {
                var envKey = (string?)env["key"] ?? throw new InvalidOperationException($"An environment of '{key}' has no key.");
                project.Environments.Add(new Environment(
                    key,
                    envKey,
                    (string?)env["name"] ?? envKey,
                    StableId("environment", key + "/" + envKey),
                    (string?)env["color"] ?? "7f7f7f",
                    env["critical"]?.Value<bool>() ?? false,
                    env["approvalsRequired"]?.Value<bool>() ?? false));
            }

            foreach (var flagToken in projectToken["flags"] as JArray ?? new JArray())
            {
                var flag = Normalize(project, (JObject)flagToken.DeepClone());
                if (FlagValidator.Problem(flag) is { } problem)
                {
                    throw new InvalidOperationException($"Seeded flag '{flag["key"]}' is invalid: {problem}");
                }

                project.Flags[(string)flag["key"]!] = flag;
            }

            result[key] = project;
        }

        return result;
    }

    /// <summary>Fills what the seed may leave out so every flag looks like LaunchDarkly's representation, in every environment.</summary>
    private static JObject Normalize(Project project, JObject flag)
    {
        var key = (string?)flag["key"] ?? throw new InvalidOperationException("Every seeded flag needs a key.");
        flag["name"] ??= key;
        flag["kind"] ??= "boolean";
        flag["description"] ??= "";
        flag["_version"] ??= 1;
        flag["archived"] ??= false;
        flag["temporary"] ??= false;
        flag["tags"] ??= new JArray();
        flag["creationDate"] ??= 1730419200000;
        var variations = flag["variations"] as JArray ?? throw new InvalidOperationException($"Flag '{key}' needs variations.");
        for (var i = 0; i < variations.Count; i++)
        {
            variations[i]["_id"] ??= StableId("variation", $"{project.Key}/{key}/{i}");
        }

        var falseIndex = variations.Select((v, i) => (v, i)).FirstOrDefault(p => p.v["value"]?.Type == JTokenType.Boolean && !p.v["value"]!.Value<bool>()).i;
        if (flag["environments"] is not JObject environments)
        {
            environments = new JObject();
            flag["environments"] = environments; // assigned only when new: Newtonsoft clones a token that already has a parent
        }
        foreach (var environment in project.Environments)
        {
            if (environments[environment.Key] is not JObject config)
            {
                config = new JObject { ["on"] = false, ["offVariation"] = falseIndex, ["fallthrough"] = new JObject { ["variation"] = falseIndex } };
                environments[environment.Key] = config;
            }

            config["on"] ??= false;
            config["archived"] ??= false;
            config["salt"] ??= StableId("salt", $"{project.Key}/{key}/{environment.Key}").Replace("-", "", StringComparison.Ordinal);
            config["sel"] ??= StableId("sel", $"{project.Key}/{key}/{environment.Key}").Replace("-", "", StringComparison.Ordinal);
            config["lastModified"] ??= 1730419200000;
            config["version"] ??= 1;
            config["targets"] ??= new JArray();
            config["contextTargets"] ??= new JArray();
            config["rules"] ??= new JArray();
            config["prerequisites"] ??= new JArray();
            config["fallthrough"] ??= new JObject { ["variation"] = falseIndex };
            config["trackEvents"] ??= false;
            config["trackEventsFallthrough"] ??= false;
            config["_environmentName"] = environment.Name;
            config["_site"] = new JObject { ["href"] = $"/{project.Key}/{environment.Key}/features/{key}", ["type"] = "text/html" };
            var index = 0;
            foreach (var rule in (JArray)config["rules"]!)
            {
                rule["_id"] ??= StableId("rule", $"{project.Key}/{key}/{environment.Key}/{index++}");
                rule["clauses"] ??= new JArray();
            }
        }

        return flag;
    }

    private static string StableId(string kind, string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(kind + ":" + name));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }

    private sealed class Project
    {
        public Project(string key, string name, string id)
        {
            Key = key;
            Name = name;
            Id = id;
        }

        public string Key { get; }

        public string Name { get; }

        public string Id { get; }

        public List<Environment> Environments { get; } = new();

        public SortedDictionary<string, JObject> Flags { get; } = new(StringComparer.Ordinal);
    }

    private sealed record PendingChange(string Id, string Project, string Flag, string Environment, string Kind)
    {
        public JObject ToJson() => new() { ["_id"] = Id, ["project"] = Project, ["flag"] = Flag, ["environment"] = Environment, ["kind"] = Kind };
    }

    private sealed record Environment(string ProjectKey, string Key, string Name, string Id, string Color, bool Critical, bool ApprovalsRequired);
}
