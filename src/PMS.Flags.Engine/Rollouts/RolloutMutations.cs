using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>The two flag changes a rollout makes: set a stage's absolute percentage, or switch the flag off.</summary>
internal static class RolloutMutations
{
    public static FlagMutation Stage(RolloutPlan plan, int index, string user) => new()
    {
        Flag = plan.Flag,
        Environment = plan.Environment,
        Kind = FlagChangeKind.SetPercentage,
        Percentage = plan.Stages[index],
        Reason = string.IsNullOrWhiteSpace(plan.Reason) ? plan.Reason : $"{plan.Reason} — rollout {plan.RolloutId} stage {index + 1}/{plan.Stages.Count} ({FlagPercentage.Format(plan.Stages[index])}% of users)",
        ApprovalTicket = plan.ApprovalTicket,
        User = user,
        RolloutId = plan.RolloutId,
        Rule = plan.Rule,
    };

    public static FlagMutation TurnOff(RolloutPlan plan, string user, string reason, string? ticket) => new()
    {
        Flag = plan.Flag,
        Environment = plan.Environment,
        Kind = FlagChangeKind.TurnOff,
        Reason = reason,
        ApprovalTicket = ticket,
        User = user,
        RolloutId = plan.RolloutId,
        Rule = plan.Rule,
    };
}
