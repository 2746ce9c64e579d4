using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>
/// The semantic patch instructions the stand-in understands, applied to a copy of one environment's configuration.
/// Like LaunchDarkly, instructions state absolute targets: a configuration already in the requested state is left as it is.
/// </summary>
public static class SemanticPatchApplier
{
    public static readonly string[] Kinds =
    {
        "turnFlagOn", "turnFlagOff", "updateFallthroughVariationOrRollout", "updateRuleVariationOrRollout", "updateOffVariation",
    };

    public static void Apply(JObject flag, JObject config, JObject instruction)
    {
        var kind = instruction["kind"]?.Type == JTokenType.String ? (string)instruction["kind"]! : null;
        switch (kind)
        {
            case "turnFlagOn":
                config["on"] = true;
                break;
            case "turnFlagOff":
                config["on"] = false;
                break;
            case "updateFallthroughVariationOrRollout":
                SetVariationOrRollout(flag, (JObject)config["fallthrough"]!, instruction, "the fallthrough");
                break;
            case "updateRuleVariationOrRollout":
                var ruleId = instruction["ruleId"]?.Type == JTokenType.String ? (string)instruction["ruleId"]! : null;
                if (string.IsNullOrEmpty(ruleId))
                {
                    throw StandInError.Invalid("updateRuleVariationOrRollout requires ruleId.");
                }

                var rule = (config["rules"] as JArray)?.OfType<JObject>().FirstOrDefault(r => (string?)r["_id"] == ruleId)
                    ?? throw StandInError.Invalid($"Rule '{ruleId}' does not exist in this environment.");
                SetVariationOrRollout(flag, rule, instruction, $"rule '{ruleId}'");
                break;
            case "updateOffVariation":
                config["offVariation"] = VariationIndex(flag, instruction["variationId"]);
                break;
            case null:
                throw StandInError.Invalid("Every instruction needs a string 'kind'.");
            default:
                throw StandInError.Invalid($"Unknown or unsupported instruction kind '{kind}'.");
        }
    }

    private static void SetVariationOrRollout(JObject flag, JObject target, JObject instruction, string where)
    {
        var variationId = instruction["variationId"];
        var weights = instruction["rolloutWeights"];
        var hasVariation = variationId is { Type: not JTokenType.Null };
        var hasWeights = weights is { Type: not JTokenType.Null };
        if (hasVariation == hasWeights)
        {
            throw StandInError.Invalid($"Updating {where} needs exactly one of variationId and rolloutWeights.");
        }

        if (hasVariation)
        {
            var index = VariationIndex(flag, variationId);
            target.Remove("rollout");
            target["variation"] = index;
            return;
        }

        if (weights is not JObject weightMap || weightMap.Count == 0)
        {
            throw StandInError.Invalid("rolloutWeights must be an object of variation id to weight.");
        }

        var variations = (JArray)flag["variations"]!;
        var byIndex = new long[variations.Count];
        long sum = 0;
        foreach (var property in weightMap.Properties())
        {
            var index = IndexOfId(variations, property.Name) ?? throw StandInError.Invalid($"rolloutWeights names unknown variation id '{property.Name}'.");
            if (property.Value.Type != JTokenType.Integer || (long)property.Value < 0 || (long)property.Value > 100_000)
            {
                throw StandInError.Invalid($"The weight of variation '{property.Name}' must be an integer from 0 to 100000.");
            }

            byIndex[index] = (long)property.Value;
            sum += (long)property.Value;
        }

        if (sum != 100_000)
        {
            throw StandInError.Invalid($"rolloutWeights must sum to 100000 (thousandths of a percent); they sum to {sum}.");
        }

        var rollout = new JObject
        {
            ["variations"] = new JArray(byIndex.Select((w, i) => new JObject { ["variation"] = i, ["weight"] = w })),
        };
        if (instruction["rolloutBucketBy"] is { Type: JTokenType.String } bucketBy)
        {
            rollout["bucketBy"] = bucketBy.DeepClone();
        }

        rollout["contextKind"] = instruction["rolloutContextKind"] is { Type: JTokenType.String } contextKind ? contextKind.DeepClone() : "user";
        target.Remove("variation");
        target["rollout"] = rollout;
    }

    private static int VariationIndex(JObject flag, JToken? variationId)
    {
        if (variationId is not { Type: JTokenType.String })
        {
            throw StandInError.Invalid("variationId must be a variation's _id.");
        }

        return IndexOfId((JArray)flag["variations"]!, (string)variationId!) ?? throw StandInError.Invalid($"Unknown variation id '{variationId}'.");
    }

    private static int? IndexOfId(JArray variations, string id)
    {
        for (var i = 0; i < variations.Count; i++)
        {
            if ((string?)variations[i]["_id"] == id)
            {
                return i;
            }
        }

        return null;
    }
}
