using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>The refusals every part of the rollout engine shares, so one ErrorId keeps one wording wherever it is raised.</summary>
internal static class RolloutRefusals
{
    public static void RequireActive(RolloutState state)
    {
        if (!state.IsActive)
        {
            throw new FlagsException("RolloutNotActive", FlagsErrorKind.InvalidOperation, $"Rollout {state.RolloutId} is {state.Status}; only a running or paused rollout can be suspended, resumed or stopped.", state.RolloutId);
        }
    }

    public static void RequireReason(RolloutActor actor, string rolloutId)
    {
        if (string.IsNullOrWhiteSpace(actor.Reason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "A reason is required; it goes into the audit record.", rolloutId);
        }

        if (string.IsNullOrWhiteSpace(actor.User))
        {
            throw new FlagsException("UserRequired", FlagsErrorKind.InvalidArgument, "The acting user is required; it goes into the audit record.", rolloutId);
        }
    }

    public static FlagsException NoActiveRollout(string flag, string environment)
        => new("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"'{flag}' in '{environment}' has no running or paused rollout.", flag);

    public static FlagsException LedgerBusy(string rolloutId)
        => new("LedgerBusy", FlagsErrorKind.ResourceUnavailable, $"Other writers kept appending to the ledger; rollout {rolloutId} was not changed by this call. Try again.", rolloutId);
}
