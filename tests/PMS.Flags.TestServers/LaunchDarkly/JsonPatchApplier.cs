using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// RFC 6902 operations (add, remove, replace, test) on a copy of a flag. Only configuration paths may change:
/// <c>/name</c>, <c>/description</c> and <c>/environments/{env}/(on|offVariation|fallthrough|rules|targets|contextTargets|prerequisites)…</c>.
/// A failed <c>test</c> answers 409 and applies nothing.
/// </summary>
public static class JsonPatchApplier
{
    private static readonly string[] WritableEnvironmentMembers = { "on", "offVariation", "fallthrough", "rules", "targets", "contextTargets", "prerequisites" };

    /// <summary>Environment keys whose configuration the operations write to.</summary>
    public static IReadOnlyList<string> TouchedEnvironments(JArray operations)
        => operations.OfType<JObject>()
            .Where(o => (string?)o["op"] != "test")
            .Select(o => Pointer((string?)o["path"] ?? ""))
            .Where(t => t.Count >= 2 && t[0] == "environments")
            .Select(t => t[1])
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    public static void Apply(JObject flag, JArray operations)
    {
        if (operations.Count == 0)
        {
            throw StandInError.Invalid("The patch has no operations.");
        }

        foreach (var token in operations)
        {
            if (token is not JObject operation || operation["op"]?.Type != JTokenType.String || operation["path"]?.Type != JTokenType.String)
            {
                throw StandInError.Invalid("Every operation needs string 'op' and 'path'.");
            }

            var op = (string)operation["op"]!;
            var path = (string)operation["path"]!;
            if (!path.StartsWith('/'))
            {
                throw StandInError.Invalid($"'{path}' is not a JSON pointer.");
            }

            var tokens = Pointer(path);
            if (op != "test")
            {
                RequireWritable(flag, tokens, path);
            }

            switch (op)
            {
                case "test":
                    var actual = Resolve(flag, tokens);
                    if (actual is null || !JToken.DeepEquals(actual, operation["value"]))
                    {
                        throw new StandInError(409, "optimistic_locking_error", $"The test of '{path}' failed: the flag was changed concurrently. Nothing was applied.");
                    }

                    break;
                case "replace":
                    RequireValue(operation, op);
                    if (Resolve(flag, tokens) is not { } existing)
                    {
                        throw StandInError.Invalid($"Cannot replace '{path}': it does not exist.");
                    }

                    existing.Replace(operation["value"]!.DeepClone());
                    break;
                case "add":
                    RequireValue(operation, op);
                    Add(flag, tokens, operation["value"]!.DeepClone(), path);
                    break;
                case "remove":
                    if (Resolve(flag, tokens) is not { } doomed)
                    {
                        throw StandInError.Invalid($"Cannot remove '{path}': it does not exist.");
                    }

                    if (doomed.Parent is JProperty property)
                    {
                        property.Remove();
                    }
                    else
                    {
                        doomed.Remove();
                    }

                    break;
                default:
                    throw StandInError.Invalid($"Unsupported patch operation '{op}' (the stand-in knows add, remove, replace and test).");
            }
        }
    }

    public static List<string> Pointer(string path)
        => path.Length <= 1 ? new List<string>() : path[1..].Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToList();

    private static void RequireWritable(JObject flag, List<string> tokens, string path)
    {
        var writable = tokens.Count == 1 && tokens[0] is "name" or "description"
            || (tokens.Count >= 3 && tokens[0] == "environments" && WritableEnvironmentMembers.Contains(tokens[2]));
        if (!writable)
        {
            throw StandInError.Invalid($"'{path}' cannot be changed with a patch.");
        }

        if (tokens[0] == "environments" && flag["environments"]?[tokens[1]] is null)
        {
            throw StandInError.Invalid($"Unknown environment '{tokens[1]}' in '{path}'.");
        }
    }

    private static void RequireValue(JObject operation, string op)
    {
        if (operation["value"] is null)
        {
            throw StandInError.Invalid($"'{op}' needs a value.");
        }
    }

    private static JToken? Resolve(JToken root, List<string> tokens)
    {
        var current = root;
        foreach (var token in tokens)
        {
            current = current switch
            {
                JObject obj => obj[token],
                JArray array when int.TryParse(token, out var i) && i >= 0 && i < array.Count => array[i],
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    private static void Add(JObject root, List<string> tokens, JToken value, string path)
    {
        var parent = Resolve(root, tokens.Take(tokens.Count - 1).ToList());
        var last = tokens[^1];
        switch (parent)
        {
            case JObject obj:
                obj[last] = value;
                break;
            case JArray array when last == "-":
                array.Add(value);
                break;
            case JArray array when int.TryParse(last, out var i) && i >= 0 && i <= array.Count:
                array.Insert(i, value);
                break;
            default:
                throw StandInError.Invalid($"Cannot add at '{path}': its parent does not exist.");
        }
    }
}
