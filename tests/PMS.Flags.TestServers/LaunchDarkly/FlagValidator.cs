using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>What LaunchDarkly refuses in a flag's configuration, checked after every patch (semantic or JSON).</summary>
public static class FlagValidator
{
    /// <summary>The first problem found, or null when the flag is valid.</summary>
    public static string? Problem(JObject flag)
    {
        var variationCount = (flag["variations"] as JArray)?.Count ?? 0;
        if (variationCount < 2)
        {
            return "A flag needs at least two variations.";
        }

        if (flag["environments"] is not JObject environments)
        {
            return "The flag has no environments object.";
        }

        foreach (var property in environments.Properties())
        {
            var env = property.Name;
            if (property.Value is not JObject config)
            {
                return $"Environment '{env}' is not an object.";
            }

            if (config["on"]?.Type != JTokenType.Boolean)
            {
                return $"'on' in '{env}' must be a boolean.";
            }

            if (config["offVariation"] is { } off && off.Type != JTokenType.Null && !IsIndex(off, variationCount))
            {
                return $"offVariation in '{env}' must be a variation index from 0 to {variationCount - 1}.";
            }

            if (config["fallthrough"] is not JObject fallthrough)
            {
                return $"The fallthrough of '{env}' is missing.";
            }

            if (VariationOrRolloutProblem(fallthrough, variationCount, $"the fallthrough of '{env}'") is { } problem)
            {
                return problem;
            }

            if (config["rules"] is { } rulesToken)
            {
                if (rulesToken is not JArray rules)
                {
                    return $"rules in '{env}' must be an array.";
                }

                var ids = new HashSet<string>(StringComparer.Ordinal);
                foreach (var ruleToken in rules)
                {
                    if (ruleToken is not JObject rule || rule["_id"]?.Type != JTokenType.String || !ids.Add((string)rule["_id"]!))
                    {
                        return $"Every rule in '{env}' must be an object with a unique string _id.";
                    }

                    if (VariationOrRolloutProblem(rule, variationCount, $"rule '{rule["_id"]}' in '{env}'") is { } ruleProblem)
                    {
                        return ruleProblem;
                    }
                }
            }
        }

        return null;
    }

    private static string? VariationOrRolloutProblem(JObject target, int variationCount, string where)
    {
        var hasVariation = target["variation"] is { Type: not JTokenType.Null };
        var hasRollout = target["rollout"] is { Type: not JTokenType.Null };
        if (hasVariation == hasRollout)
        {
            return $"{Capitalize(where)} must hold exactly one of 'variation' and 'rollout'.";
        }

        if (hasVariation)
        {
            return IsIndex(target["variation"]!, variationCount) ? null : $"The variation of {where} must be an index from 0 to {variationCount - 1}.";
        }

        if (target["rollout"] is not JObject rollout || rollout["variations"] is not JArray weighted || weighted.Count == 0)
        {
            return $"The rollout of {where} needs a non-empty 'variations' array.";
        }

        long sum = 0;
        var seen = new HashSet<int>();
        foreach (var item in weighted)
        {
            if (item is not JObject slice || slice["variation"] is not { } v || !IsIndex(v, variationCount) || !seen.Add((int)v))
            {
                return $"Every slice of the rollout of {where} must name a distinct variation index from 0 to {variationCount - 1}.";
            }

            if (slice["weight"] is not { Type: JTokenType.Integer } w || (long)w < 0 || (long)w > 100_000)
            {
                return $"Every weight of the rollout of {where} must be an integer from 0 to 100000.";
            }

            sum += (long)w;
        }

        return sum == 100_000 ? null : $"The rollout weights of {where} must sum to 100000 (thousandths of a percent); they sum to {sum}.";
    }

    private static bool IsIndex(JToken token, int count) => token.Type == JTokenType.Integer && (long)token >= 0 && (long)token < count;

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
