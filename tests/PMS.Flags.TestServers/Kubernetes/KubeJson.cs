using System.Globalization;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>JSON helpers the stand-in shares: timestamps, patch flavours, template comparison, selectors.</summary>
public static class KubeJson
{
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string NanoTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture);

    /// <summary>RFC 7386: objects merge, null deletes, everything else replaces.</summary>
    public static JToken MergePatch(JToken? target, JToken patch)
    {
        if (patch is not JObject patchObject)
        {
            return patch.DeepClone();
        }

        var result = target as JObject is { } t ? (JObject)t.DeepClone() : new JObject();
        foreach (var property in patchObject.Properties())
        {
            if (property.Value.Type == JTokenType.Null)
            {
                result.Remove(property.Name);
            }
            else
            {
                result[property.Name] = MergePatch(result[property.Name], property.Value);
            }
        }

        return result;
    }

    /// <summary>
    /// Strategic merge patch as Kubernetes applies it to the fields used here: maps merge, null deletes, lists of
    /// objects that carry a "name" (containers, env, ports by name) merge by that key, other lists replace.
    /// </summary>
    public static JToken StrategicMergePatch(JToken? target, JToken patch)
    {
        if (patch is JArray patchArray && target is JArray targetArray
            && patchArray.All(i => i is JObject o && o["name"] is JValue) && targetArray.All(i => i is JObject o && o["name"] is JValue))
        {
            var merged = (JArray)targetArray.DeepClone();
            foreach (JObject item in patchArray)
            {
                var name = (string?)item["name"];
                var existing = merged.OfType<JObject>().FirstOrDefault(o => (string?)o["name"] == name);
                if (existing is null)
                {
                    merged.Add(item.DeepClone());
                }
                else
                {
                    existing.Replace(StrategicMergePatch(existing, item));
                }
            }

            return merged;
        }

        if (patch is not JObject patchObject)
        {
            return patch.DeepClone();
        }

        var result = target as JObject is { } t ? (JObject)t.DeepClone() : new JObject();
        foreach (var property in patchObject.Properties())
        {
            if (property.Name.StartsWith("$", StringComparison.Ordinal))
            {
                continue;
            }

            if (property.Value.Type == JTokenType.Null)
            {
                result.Remove(property.Name);
            }
            else
            {
                result[property.Name] = StrategicMergePatch(result[property.Name], property.Value);
            }
        }

        return result;
    }

    /// <summary>RFC 6902 add/remove/replace/test/copy/move over a copy; a failed test answers 422 like the API server.</summary>
    public static JObject JsonPatch(JObject target, JArray operations, string kind, string name)
    {
        var result = (JObject)target.DeepClone();
        foreach (var token in operations)
        {
            if (token is not JObject op || op["op"]?.Type != JTokenType.String || op["path"]?.Type != JTokenType.String)
            {
                throw KubeError.BadRequest("the server rejected our request due to an error in our request: invalid JSON Patch operation");
            }

            var path = (string)op["path"]!;
            var (parent, key) = Locate(result, path, kind, name);
            switch ((string)op["op"]!)
            {
                case "add":
                    Set(parent, key, op["value"]!.DeepClone(), insert: true);
                    break;
                case "replace":
                    if (Get(parent, key) is null)
                    {
                        throw KubeError.Invalid(kind, name, $"replace operation does not apply: doc is missing key: {path}");
                    }

                    Set(parent, key, op["value"]!.DeepClone(), insert: false);
                    break;
                case "remove":
                    if (Get(parent, key) is null)
                    {
                        throw KubeError.Invalid(kind, name, $"remove operation does not apply: doc is missing path: {path}");
                    }

                    if (parent is JObject po)
                    {
                        po.Remove(key);
                    }
                    else
                    {
                        ((JArray)parent).RemoveAt(int.Parse(key, CultureInfo.InvariantCulture));
                    }

                    break;
                case "test":
                    if (!JToken.DeepEquals(Get(parent, key), op["value"]))
                    {
                        throw KubeError.Invalid(kind, name, $"testing value {path} failed");
                    }

                    break;
                default:
                    throw KubeError.BadRequest($"Unexpected kind: {(string?)op["op"]}");
            }
        }

        return result;
    }

    /// <summary>
    /// The template with nulls, empty maps and lists and the pod-template-hash label dropped and keys sorted: what "same
    /// template" means. kubectl's undo re-encodes a ReplicaSet's template through Go structs ("creationTimestamp": null,
    /// "resources": {}), which the real API server's defaulting makes equal again.
    /// </summary>
    public static string Canonical(JToken? token)
    {
        static JToken? Clean(JToken? t) => t switch
        {
            null => null,
            JObject o => new JObject(o.Properties()
                .Where(p => p.Value.Type != JTokenType.Null && p.Name != "pod-template-hash")
                .Select(p => (p.Name, Value: Clean(p.Value)))
                .Where(p => p.Value is not null && p.Value is not JObject { Count: 0 } && p.Value is not JArray { Count: 0 })
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => new JProperty(p.Name, p.Value))),
            JArray a => new JArray(a.Select(Clean).Where(i => i is not null)),
            _ => t.Type == JTokenType.Null ? null : t.DeepClone(),
        };
        return Clean(token)?.ToString(Newtonsoft.Json.Formatting.None) ?? "";
    }

    /// <summary>Equality-based label selectors as kubectl and client-go write them: <c>a=b,c==d,e!=f,g,!h</c>.</summary>
    public static bool MatchesLabels(JObject? labels, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }

        foreach (var raw in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string? Value(string k) => (string?)labels?[k];
            if (raw.Contains("!=", StringComparison.Ordinal))
            {
                var parts = raw.Split("!=", 2);
                if (Value(parts[0].Trim()) == parts[1].Trim())
                {
                    return false;
                }
            }
            else if (raw.Contains('='))
            {
                var parts = raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
                if (Value(parts[0].Trim()) != parts[1].Trim())
                {
                    return false;
                }
            }
            else if (raw.StartsWith('!'))
            {
                if (Value(raw[1..]) is not null)
                {
                    return false;
                }
            }
            else if (Value(raw) is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Field selectors on dotted paths (<c>metadata.name=x,involvedObject.kind=Pod</c>).</summary>
    public static bool MatchesFields(JObject item, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }

        foreach (var raw in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var negate = raw.Contains("!=", StringComparison.Ordinal);
            var parts = negate ? raw.Split("!=", 2) : raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
            if (parts.Length != 2)
            {
                throw KubeError.BadRequest($"invalid field selector: '{raw}'");
            }

            var actual = (string?)item.SelectToken(parts[0].Trim()) ?? "";
            if ((actual == parts[1].Trim()) == negate)
            {
                return false;
            }
        }

        return true;
    }

    private static (JToken Parent, string Key) Locate(JObject root, string path, string kind, string name)
    {
        if (!path.StartsWith('/'))
        {
            throw KubeError.BadRequest($"the server rejected our request due to an error in our request: JSON pointer must start with '/': {path}");
        }

        var parts = path[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        JToken current = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current = (current is JArray a && int.TryParse(parts[i], out var index) && index < a.Count ? a[index] : current[parts[i]])
                      ?? throw KubeError.Invalid(kind, name, $"doc is missing path: {path}");
        }

        return (current, parts[^1]);
    }

    private static JToken? Get(JToken parent, string key)
        => parent is JArray a ? (int.TryParse(key, out var i) && i < a.Count ? a[i] : null) : parent[key];

    private static void Set(JToken parent, string key, JToken value, bool insert)
    {
        if (parent is JArray a)
        {
            if (key == "-")
            {
                a.Add(value);
            }
            else if (insert)
            {
                a.Insert(int.Parse(key, CultureInfo.InvariantCulture), value);
            }
            else
            {
                a[int.Parse(key, CultureInfo.InvariantCulture)] = value;
            }
        }
        else
        {
            parent[key] = value;
        }
    }
}
