using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Suspends and resumes rollouts: fold the state (spool included, so a rollout whose end is only spooled is refused as
/// not active), return it as is when it already has the target status, otherwise append the status change at the
/// stream's head; when another writer moved the stream, fold again and decide again.
/// </summary>
internal sealed class RolloutControl
{
    private readonly RolloutContext context;

    public RolloutControl(RolloutContext context) => this.context = context;

    /// <summary>Pauses a running rollout, keeping the remaining bake time; a paused one is returned unchanged.</summary>
    public Task<RolloutState> SuspendAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => ChangeStatusAsync(rolloutId, actor, RolloutStatus.Paused, (state, now) => context.Events.Suspended(state, actor, now), cancellationToken);

    /// <summary>Resumes a paused rollout with the bake time that remained when it paused; a running one is returned unchanged.</summary>
    public Task<RolloutState> ResumeAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => ChangeStatusAsync(rolloutId, actor, RolloutStatus.Running, (state, now) =>
        {
            var ticket = actor.ApprovalTicket ?? state.Plan.ApprovalTicket;
            if (string.IsNullOrWhiteSpace(ticket) && FlagOperations.IsProtected(context.Store, state.Environment))
            {
                throw new FlagsException("ApprovalTicketRequired", FlagsErrorKind.PermissionDenied, $"Resuming a rollout in '{state.Environment}' requires -ApprovalTicket.", rolloutId);
            }

            return context.Events.Resumed(state, actor, ticket, now);
        }, cancellationToken);

    private async Task<RolloutState> ChangeStatusAsync(string rolloutId, RolloutActor actor, RolloutStatus target, Func<RolloutState, DateTimeOffset, AuditEvent> buildEvent, CancellationToken cancellationToken)
    {
        RolloutRefusals.RequireReason(actor, rolloutId);
        return await context.Decisions.RunAsync<RolloutState, RolloutState>(
            LedgerStream.Rollout(rolloutId),
            context.Reader.Fold(rolloutId),
            state =>
            {
                context.Reader.EnsureSameStore(state);
                RolloutRefusals.RequireActive(state);
                return Task.FromResult(state.Status == target
                    ? StreamDecision<RolloutState>.Done(state)
                    : StreamDecision<RolloutState>.Append(new[] { buildEvent(state, context.Time.GetUtcNow()) }, _ => context.Reader.LoadAsync(rolloutId, cancellationToken)));
            },
            afterChange: false,
            () => RolloutRefusals.LedgerBusy(rolloutId),
            cancellationToken).ConfigureAwait(false);
    }
}
