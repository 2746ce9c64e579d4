using System.Globalization;
using System.Security.Cryptography;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// What a progressive rollout will do: the stages (e.g. 5, 25, 50, 100), the bake time at each, the guardrails, and
/// the who/why/ticket of the approval. It is stored whole in the rollout_started event, so any process can rebuild
/// it from the ledger alone, and it is validated before anything changes.
/// </summary>
public sealed class RolloutPlan
{
    public required string RolloutId { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    /// <summary>Percentages, strictly increasing, each in (0, 100] with at most three decimals.</summary>
    public required IReadOnlyList<decimal> Stages { get; init; }

    /// <summary>How long each stage runs with every guardrail healthy before the next; zero is allowed (guardrails still gate).</summary>
    public TimeSpan BakeTime { get; init; }

    /// <summary>The guardrails, each cohort guardrail without a flag bound to this rollout's flag.</summary>
    public IReadOnlyList<GuardrailDefinition> Guardrails { get => bound ??= guardrails.Select(g => g.BoundTo(Flag)).ToArray(); init => guardrails = value ?? Array.Empty<GuardrailDefinition>(); }

    private readonly IReadOnlyList<GuardrailDefinition> guardrails = Array.Empty<GuardrailDefinition>();
    private IReadOnlyList<GuardrailDefinition>? bound;

    public required string Reason { get; init; }

    public string? ApprovalTicket { get; init; }

    /// <summary>Who started the rollout.</summary>
    public required string User { get; init; }

    /// <summary>A LaunchDarkly rule id to roll out instead of the fallthrough; null for file stores.</summary>
    public string? Rule { get; init; }

    /// <summary>A fresh id, readable and sortable by start time: <c>ro-20240115T103000Z-3f9a1c</c>.</summary>
    public static string NewRolloutId(TimeProvider? time = null)
        => $"ro-{(time ?? TimeProvider.System).GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    /// <summary>Converts user input (PowerShell doubles) to stage percentages; NaN and infinities are out of range.</summary>
    public static IReadOnlyList<decimal> StagesFrom(IEnumerable<double> percentages)
        => percentages.Select(p => double.IsFinite(p) && Math.Abs(p) < 1e9
                ? decimal.Parse(p.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture)
                : throw StageOutOfRange(p.ToString(CultureInfo.InvariantCulture)))
            .ToArray();

    /// <summary>Throws a FlagsException with a stable ErrorId for the first thing wrong; changes nothing.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RolloutId))
        {
            throw new FlagsException("RolloutIdRequired", FlagsErrorKind.InvalidArgument, "A rollout needs an id.");
        }

        if (string.IsNullOrWhiteSpace(Flag))
        {
            throw new FlagsException("FlagRequired", FlagsErrorKind.InvalidArgument, "A flag key is required.");
        }

        if (string.IsNullOrWhiteSpace(Environment))
        {
            throw new FlagsException("EnvironmentRequired", FlagsErrorKind.InvalidArgument, "An environment is required: pass -Environment or connect the store with a default environment.");
        }

        if (string.IsNullOrWhiteSpace(Reason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "A reason is required for a rollout; it goes into every audit record of it.", Flag);
        }

        if (Stages is null || Stages.Count == 0)
        {
            throw new FlagsException("RolloutStagesRequired", FlagsErrorKind.InvalidArgument, "A rollout needs at least one stage, e.g. -Stages 5,25,50,100.", Flag);
        }

        foreach (var stage in Stages)
        {
            if (stage <= 0 || stage > 100)
            {
                throw StageOutOfRange(FlagPercentage.Format(stage));
            }

            if (decimal.Round(stage, 3) != stage)
            {
                throw new FlagsException("PercentageTooPrecise", FlagsErrorKind.InvalidArgument, $"A stage may have at most 3 decimals (LaunchDarkly weights are thousandths of a percent); got {stage.ToString(CultureInfo.InvariantCulture)}.", stage);
            }
        }

        for (var i = 1; i < Stages.Count; i++)
        {
            if (Stages[i] <= Stages[i - 1])
            {
                throw new FlagsException(
                    "RolloutStagesNotIncreasing",
                    FlagsErrorKind.InvalidArgument,
                    $"Stages must be strictly increasing; stage {i + 1} ({FlagPercentage.Format(Stages[i])}%) does not exceed stage {i} ({FlagPercentage.Format(Stages[i - 1])}%).",
                    Stages);
            }
        }

        if (BakeTime < TimeSpan.Zero)
        {
            throw new FlagsException("RolloutBakeTimeNegative", FlagsErrorKind.InvalidArgument, $"The bake time must be zero or more; got {BakeTime}.", BakeTime);
        }

        foreach (var guardrail in Guardrails)
        {
            guardrail.Validate();
        }

        // Evaluations are tracked by guardrail name (For durations, evidence): two with one name would mix.
        var duplicate = Guardrails.GroupBy(g => g.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new FlagsException("GuardrailNameDuplicate", FlagsErrorKind.InvalidArgument, $"Two guardrails are named '{duplicate.Key}'; give each a distinct -Name.", duplicate.Key);
        }
    }

    /// <summary>The -WhatIf timeline: when each stage can start at the earliest, and the least time the rollout takes.</summary>
    public RolloutPreview Preview(FlagState? current = null, IReadOnlyList<GuardrailResult>? guardrails = null)
    {
        var stages = Stages.Select((percentage, index) => new RolloutPreviewStage
        {
            Number = index + 1,
            Percentage = percentage,
            EarliestStart = TimeSpan.FromTicks(BakeTime.Ticks * index),
            BakeTime = BakeTime,
        }).ToArray();
        return new RolloutPreview
        {
            RolloutId = RolloutId,
            Flag = Flag,
            Environment = Environment,
            Stages = stages,
            MinimumTotalDuration = TimeSpan.FromTicks(BakeTime.Ticks * Stages.Count),
            Guardrails = Guardrails,
            GuardrailResults = guardrails ?? Array.Empty<GuardrailResult>(),
            Current = current,
        };
    }

    public JObject ToJson() => new()
    {
        ["rollout_id"] = RolloutId,
        ["flag"] = Flag,
        ["environment"] = Environment,
        ["stages"] = new JArray(Stages.Select(s => s == decimal.Truncate(s) ? new JValue((long)s) : new JValue(s))),
        ["bake_time"] = GuardrailJson.Span(BakeTime),
        ["guardrails"] = new JArray(Guardrails.Select(g => g.ToJson())),
        ["reason"] = Reason,
        ["approval_ticket"] = ApprovalTicket,
        ["user"] = User,
        ["rule"] = Rule,
    };

    /// <summary>Rebuilds the plan stored in a rollout_started event; RolloutPlanUnreadable when it is not one.</summary>
    public static RolloutPlan FromJson(JObject o)
    {
        try
        {
            return new RolloutPlan
            {
                RolloutId = (string?)o["rollout_id"] ?? "",
                Flag = (string?)o["flag"] ?? "",
                Environment = (string?)o["environment"] ?? "",
                Stages = (o["stages"] as JArray ?? new JArray()).Select(s => (decimal)s).ToArray(),
                BakeTime = TimeSpan.ParseExact((string?)o["bake_time"] ?? "00:00:00", "c", CultureInfo.InvariantCulture),
                Guardrails = (o["guardrails"] as JArray ?? new JArray()).OfType<JObject>().Select(GuardrailDefinition.FromJson).ToArray(),
                Reason = (string?)o["reason"] ?? "",
                ApprovalTicket = (string?)o["approval_ticket"],
                User = (string?)o["user"] ?? "",
                Rule = (string?)o["rule"],
            };
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidCastException or OverflowException or JsonException)
        {
            throw new FlagsException("RolloutPlanUnreadable", FlagsErrorKind.InvalidData, $"The plan stored in the ledger cannot be read ({ex.Message}).", (string?)o["rollout_id"], ex);
        }
    }

    public override string ToString() => $"{RolloutId}: {Flag} [{Environment}] {string.Join(" -> ", Stages.Select(s => FlagPercentage.Format(s) + "%"))}, bake {BakeTime}";

    private static FlagsException StageOutOfRange(string stage)
        => new("RolloutStageOutOfRange", FlagsErrorKind.InvalidArgument, $"Every stage must be a percentage above 0 and at most 100; got {stage}.", stage);
}
