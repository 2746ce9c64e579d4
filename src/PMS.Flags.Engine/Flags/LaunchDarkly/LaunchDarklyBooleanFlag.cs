using System.Globalization;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A LaunchDarkly flag read as PMS.Flags understands flags: boolean, with exactly one true and one false variation, in
/// one environment. Knows the two variation ids a semantic patch must name, and turns the configuration into a
/// <see cref="FlagState"/>: the percentage is the true variation's weight / 1000 (or 100 / 0 for a single variation).
/// </summary>
internal sealed class LaunchDarklyBooleanFlag
{
    public const string Fallthrough = "fallthrough";

    private LaunchDarklyBooleanFlag(LdFlag flag, string environment, LdFlagEnvironment configuration, int trueIndex, int falseIndex)
    {
        Flag = flag;
        Environment = environment;
        Configuration = configuration;
        TrueIndex = trueIndex;
        FalseIndex = falseIndex;
    }

    public LdFlag Flag { get; }

    public string Environment { get; }

    public LdFlagEnvironment Configuration { get; }

    public int TrueIndex { get; }

    public int FalseIndex { get; }

    public string TrueId => Flag.Variations[TrueIndex].Id!;

    public string FalseId => Flag.Variations[FalseIndex].Id!;

    /// <param name="afterWrite">True when <paramref name="flag"/> is the answer to a change, so a failure here happens after the change was made.</param>
    public static LaunchDarklyBooleanFlag From(LdFlag flag, string environment, bool afterWrite = false)
    {
        if (!IsBoolean(flag, out var trueIndex, out var falseIndex))
        {
            throw LaunchDarklyErrors.NotBoolean(flag.Key, flag.Kind, flag.Variations.Count);
        }

        if (!flag.Environments.TryGetValue(environment, out var configuration) || configuration is null)
        {
            throw new FlagsException(
                LaunchDarklyErrorIds.UnexpectedResponse,
                FlagsErrorKind.InvalidData,
                $"LaunchDarkly's answer for flag '{flag.Key}' holds no configuration for environment '{environment}'.{(afterWrite ? " The change WAS accepted; read the flag to see its state." : string.Empty)}",
                flag.Key)
            {
                ChangeWasMade = afterWrite,
            };
        }

        if (flag.Variations.Any(v => string.IsNullOrEmpty(v.Id)))
        {
            throw new FlagsException(LaunchDarklyErrorIds.UnexpectedResponse, FlagsErrorKind.InvalidData, $"LaunchDarkly's answer for flag '{flag.Key}' has a variation without an _id.", flag.Key) { ChangeWasMade = afterWrite };
        }

        return new LaunchDarklyBooleanFlag(flag, environment, configuration, trueIndex, falseIndex);
    }

    public static bool IsBoolean(LdFlag flag, out int trueIndex, out int falseIndex)
    {
        trueIndex = -1;
        falseIndex = -1;
        if (!string.Equals(flag.Kind, "boolean", StringComparison.Ordinal) || flag.Variations.Count != 2)
        {
            return false;
        }

        for (var i = 0; i < 2; i++)
        {
            if (flag.Variations[i].Value is not { Type: JTokenType.Boolean } value)
            {
                return false;
            }

            if (value.Value<bool>())
            {
                trueIndex = i;
            }
            else
            {
                falseIndex = i;
            }
        }

        return trueIndex >= 0 && falseIndex >= 0;
    }

    public LdRule RequireRule(string ruleId)
    {
        var rules = Configuration.Rules ?? new List<LdRule>();
        return rules.FirstOrDefault(r => r.Id == ruleId)
            ?? throw LaunchDarklyErrors.RuleNotFound(Flag.Key, Environment, ruleId, rules.Select(r => r.Id ?? "?"));
    }

    /// <summary>The state the store reports: the fallthrough's (or the rule's) percentage, and what the off-variation serves.</summary>
    public FlagState ToState(string store, string? ruleId)
    {
        decimal? percentage;
        if (ruleId is null)
        {
            percentage = PercentageOf(Configuration.Fallthrough?.Variation, Configuration.Fallthrough?.Rollout);
        }
        else
        {
            var rule = RequireRule(ruleId);
            percentage = PercentageOf(rule.Variation, rule.Rollout);
        }

        return new FlagState(
            Flag.Key,
            Environment,
            Configuration.On,
            percentage,
            store,
            Configuration.Version?.ToString(CultureInfo.InvariantCulture),
            Configuration.LastModified is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
            ruleId ?? Fallthrough)
        {
            OffPercentage = Configuration.OffVariation switch
            {
                null => null,
                var i when i == TrueIndex => 100m,
                var i when i == FalseIndex => 0m,
                _ => null,
            },
        };
    }

    /// <summary>
    /// The instruction that sets the fallthrough (or rule) to <paramref name="weight"/> thousandths of a percent of the
    /// true variation: a single <c>variationId</c> at 0% and 100%, otherwise <c>rolloutWeights</c> naming every variation
    /// (summing to exactly 100000) with the current rollout's <c>bucketBy</c> and <c>contextKind</c> carried over — without
    /// them LaunchDarkly would default to a "user" rollout and silently re-bucket a rollout on another context kind.
    /// </summary>
    public LdInstruction TargetInstruction(string? ruleId, int weight)
    {
        if (weight is < 0 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(weight));
        }

        var current = ruleId is null ? Configuration.Fallthrough?.Rollout : RequireRule(ruleId).Rollout;
        var instruction = new LdInstruction
        {
            Kind = ruleId is null ? LdInstruction.UpdateFallthrough : LdInstruction.UpdateRule,
            RuleId = ruleId,
        };
        if (weight == 100_000)
        {
            instruction.VariationId = TrueId;
        }
        else if (weight == 0)
        {
            instruction.VariationId = FalseId;
        }
        else
        {
            instruction.RolloutWeights = Flag.Variations.ToDictionary(
                v => v.Id!,
                v => v.Id == TrueId ? weight : v.Id == FalseId ? 100_000 - weight : 0,
                StringComparer.Ordinal);
            instruction.RolloutBucketBy = current?.BucketBy;
            instruction.RolloutContextKind = current?.ContextKind;
        }

        return instruction;
    }

    private decimal? PercentageOf(int? variation, LdRollout? rollout)
    {
        if (rollout is { Variations.Count: > 0 })
        {
            return rollout.Variations.Where(v => v.Variation == TrueIndex).Sum(v => (decimal)v.Weight) / 1000m;
        }

        return variation switch
        {
            null => null,
            var i when i == TrueIndex => 100m,
            var i when i == FalseIndex => 0m,
            _ => null,
        };
    }
}
