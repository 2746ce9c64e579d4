using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// What an approval of a rollout plan is an approval OF: its stages, bake time and guardrails in a canonical form
/// (keys sorted, guardrails ordered by name, durations as "c" TimeSpans) and that form's SHA-256. Who starts it, why,
/// and the rollout id are not part of it: approving a plan does not approve a person.
/// </summary>
public sealed class PlanFingerprint
{
    private PlanFingerprint(JObject canonical)
    {
        Canonical = canonical;
        Hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString(Formatting.None)))).ToLowerInvariant();
    }

    public JObject Canonical { get; }

    public string Hash { get; }

    public static PlanFingerprint Of(string flag, IReadOnlyList<decimal> stages, TimeSpan bakeTime, IReadOnlyList<GuardrailDefinition> guardrails)
        => new(new JObject
        {
            ["bake_time"] = GuardrailJson.Span(bakeTime),
            ["guardrails"] = new JArray(guardrails.Select(g => g.BoundTo(flag)).OrderBy(g => g.Name, StringComparer.Ordinal).Select(g => Sorted(g.ToJson()))),
            ["stages"] = new JArray(stages.Select(s => s == decimal.Truncate(s) ? new JValue((long)s) : new JValue(s))),
        });

    public static PlanFingerprint Of(RolloutPlan plan) => Of(plan.Flag, plan.Stages, plan.BakeTime, plan.Guardrails);

    /// <summary>Reads the canonical form a checklist recorded; its hash is recomputed, never trusted.</summary>
    public static PlanFingerprint FromRecorded(JObject canonical) => new(Sorted(canonical));

    /// <summary>Which of stages, bake_time and guardrails differ, each with the approved and the given value; empty when the plans are the same.</summary>
    public IReadOnlyList<string> Differences(PlanFingerprint other)
    {
        if (other.Hash == Hash)
        {
            return Array.Empty<string>();
        }

        var differences = new List<string>();
        if (!JToken.DeepEquals(Canonical["stages"], other.Canonical["stages"]))
        {
            differences.Add($"stages: approved {Stages(Canonical)}, now {Stages(other.Canonical)}");
        }

        if (!JToken.DeepEquals(Canonical["bake_time"], other.Canonical["bake_time"]))
        {
            differences.Add($"bake_time: approved {Canonical["bake_time"]}, now {other.Canonical["bake_time"]}");
        }

        if (!JToken.DeepEquals(Canonical["guardrails"], other.Canonical["guardrails"]))
        {
            var approved = Guardrails(Canonical);
            var now = Guardrails(other.Canonical);
            var names = approved.Keys.Union(now.Keys).OrderBy(n => n, StringComparer.Ordinal);
            var changed = names.Select(n => !approved.ContainsKey(n) ? $"{n} added" : !now.ContainsKey(n) ? $"{n} removed" : JToken.DeepEquals(approved[n], now[n]) ? null : $"{n} changed ({ChangedFields(approved[n], now[n])})")
                .Where(d => d is not null);
            differences.Add($"guardrails: {string.Join("; ", changed)}");
        }

        return differences;
    }

    public override string ToString() => $"{Stages(Canonical)} bake {Canonical["bake_time"]}, {((JArray)Canonical["guardrails"]!).Count} guardrail(s), sha256 {Hash[..12]}";

    private static string Stages(JObject plan) => string.Join(",", (plan["stages"] as JArray ?? new JArray()).Select(s => FlagPercentage.Format((decimal)s)));

    private static Dictionary<string, JObject> Guardrails(JObject plan)
        => (plan["guardrails"] as JArray ?? new JArray()).OfType<JObject>().GroupBy(g => (string?)g["name"] ?? "").ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    private static string ChangedFields(JObject approved, JObject now)
        => string.Join(", ", approved.Properties().Select(p => p.Name).Union(now.Properties().Select(p => p.Name)).Where(n => !JToken.DeepEquals(approved[n], now[n])).OrderBy(n => n, StringComparer.Ordinal));

    private static JObject Sorted(JObject o)
        => new(o.Properties().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new JProperty(p.Name, p.Value is JObject child ? Sorted(child) : p.Value is JArray array ? new JArray(array.Select(t => t is JObject c ? Sorted(c) : t)) : p.Value)));
}
