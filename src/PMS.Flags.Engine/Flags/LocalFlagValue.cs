using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// The file format's three spellings of a flag: <c>false</c> (off), <c>true</c> (fully on) and
/// <c>{ "enabled": bool, "rollout_percentage": n }</c> (a partial rollout). Objects may carry other keys
/// (owners, descriptions); edits keep them.
/// </summary>
public static class LocalFlagValue
{
    public const string EnabledKey = "enabled";
    public const string PercentageKey = "rollout_percentage";

    public static (bool On, decimal Percentage) Read(string flag, string environment, JToken value)
    {
        switch (value.Type)
        {
            case JTokenType.Boolean:
                var on = value.Value<bool>();
                return (on, on ? 100m : 0m);
            case JTokenType.Object:
                var enabled = value[EnabledKey];
                var percentage = value[PercentageKey];
                if (enabled is not { Type: JTokenType.Boolean })
                {
                    throw Unsupported(flag, environment, $"its object has no boolean \"{EnabledKey}\"");
                }

                if (percentage is null)
                {
                    return (enabled.Value<bool>(), 100m);
                }

                if (percentage.Type is not (JTokenType.Integer or JTokenType.Float))
                {
                    throw Unsupported(flag, environment, $"\"{PercentageKey}\" is not a number");
                }

                var pct = percentage.Value<decimal>();
                if (pct < 0 || pct > 100)
                {
                    throw Unsupported(flag, environment, $"\"{PercentageKey}\" is {FlagPercentage.Format(pct)}, outside 0–100");
                }

                return (enabled.Value<bool>(), pct);
            default:
                throw Unsupported(flag, environment, $"its value is a {value.Type.ToString().ToLowerInvariant()}");
        }
    }

    private static FlagsException Unsupported(string flag, string environment, string why)
        => new("FlagValueUnsupported", FlagsErrorKind.InvalidData, $"Flag '{flag}' in '{environment}' cannot be read: {why}. Expected true, false or {{\"enabled\": bool, \"rollout_percentage\": 0-100}}.", flag);
}
