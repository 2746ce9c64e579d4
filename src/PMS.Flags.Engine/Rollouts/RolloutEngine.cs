using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollbacks;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Progressive rollouts as a state machine folded from the ledger. No state lives in this object: every call folds the
/// rollout's events (and any still in the local spool), decides, and appends its decision at the head of the rollout's
/// stream through the one <see cref="StreamDecisionLoop"/>, so two processes stepping one rollout produce one decision
/// and the other folds again. This class is the public face; the work is split by job:
/// <see cref="RolloutStarting"/>, <see cref="RolloutStepping"/>, <see cref="RolloutEnding"/>,
/// <see cref="RolloutControl"/>, <see cref="RolloutReader"/>, and <see cref="RolloutEvents"/> for every event's shape.
///
/// Ordering, and why:
/// - Raising exposure is decided first and done second (see <see cref="RolloutStepping"/>).
/// - Lowering exposure never waits: a critical breach or Stop switches the flag off first through
///   <see cref="EmergencyRollback"/> and records afterwards, spooling if the ledger is down (see <see cref="RolloutEnding"/>).
/// - An advance that raced a rollback would switch the flag back on after it went off; so the advancer re-reads after
///   its change and the ender switches the flag off again if it finds it on after recording the end: whichever runs
///   last switches the flag off.
/// </summary>
public sealed class RolloutEngine
{
    private readonly RolloutReader reader;
    private readonly RolloutStarting starting;
    private readonly RolloutStepping stepping;
    private readonly RolloutEnding ending;
    private readonly RolloutControl control;

    public RolloutEngine(IFlagStore store, AuditTrail audit, GuardrailFactory guardrails, TimeProvider? time = null, RolloutEngineOptions? options = null)
    {
        var context = new RolloutContext(store, audit, time ?? TimeProvider.System, options ?? RolloutEngineOptions.Default);
        reader = context.Reader;
        ending = new RolloutEnding(context);
        stepping = new RolloutStepping(context, guardrails, ending);
        starting = new RolloutStarting(context, guardrails, stepping);
        control = new RolloutControl(context);
    }

    /// <summary>Pass to <see cref="EmergencyRollback"/> so that a rollback of a flag under rollout ends that rollout as rolled back.</summary>
    public IEmergencyRollbackListener EmergencyRollbackListener => new RolloutRollbackListener(this);

    /// <summary>
    /// Validates the plan as Start would (ErrorIds included) and evaluates every guardrail now, without changing or
    /// recording anything: the -WhatIf view.
    /// </summary>
    public Task<RolloutPreview> PreviewAsync(RolloutPlan plan, CancellationToken cancellationToken)
        => starting.PreviewAsync(plan, cancellationToken);

    /// <summary>
    /// Validates, checks that no rollout of the flag is active, evaluates the guardrails once (a query Prometheus rejects
    /// fails here, before any change), records rollout_started with the whole plan, claims stage 1 and sets its
    /// percentage. Nothing is changed or recorded when it throws before rollout_started.
    /// </summary>
    public Task<RolloutState> StartAsync(RolloutPlan plan, CancellationToken cancellationToken)
        => starting.StartAsync(plan, cancellationToken);

    /// <summary>Steps the active rollout of a flag in an environment; RolloutNotFound when there is none.</summary>
    public async Task<RolloutStepResult> StepAsync(string flag, string environment, string? user, CancellationToken cancellationToken)
    {
        var active = await reader.FindActiveAsync(flag, environment, cancellationToken).ConfigureAwait(false)
            ?? throw RolloutRefusals.NoActiveRollout(flag, environment);
        return await stepping.StepAsync(active.RolloutId, user, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Does at most one thing and says which: roll back (critical breach), pause (warning breach, no data, drift),
    /// advance or complete (bake time over, every guardrail healthy), or wait. Every guardrail evaluation is recorded.
    /// Idempotent: calling it again changes nothing until time passes or the metrics change.
    /// </summary>
    public Task<RolloutStepResult> StepAsync(string rolloutId, string? user, CancellationToken cancellationToken)
        => stepping.StepAsync(rolloutId, user, cancellationToken);

    /// <summary>Pauses a running rollout, keeping the remaining bake time; a paused one is returned unchanged.</summary>
    public Task<RolloutState> SuspendAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => control.SuspendAsync(rolloutId, actor, cancellationToken);

    /// <summary>Resumes a paused rollout with the bake time that remained when it paused; a running one is returned unchanged.</summary>
    public Task<RolloutState> ResumeAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => control.ResumeAsync(rolloutId, actor, cancellationToken);

    /// <summary>
    /// Aborts: the flag goes off first through the emergency-rollback path, then the rollout is recorded as
    /// rolled back with outcome "aborted" (status Aborted).
    /// </summary>
    public Task<RolloutStepResult> StopAsync(string rolloutId, RolloutActor actor, CancellationToken cancellationToken)
        => ending.StopAsync(rolloutId, actor, cancellationToken);

    public Task<RolloutState> GetAsync(string rolloutId, CancellationToken cancellationToken)
        => reader.LoadAsync(rolloutId, cancellationToken);

    /// <summary>The Running or Paused rollout of a flag in an environment, or null.</summary>
    public Task<RolloutState?> FindActiveAsync(string flag, string environment, CancellationToken cancellationToken)
        => reader.FindActiveAsync(flag, environment, cancellationToken);

    /// <summary>Rollouts folded from the ledger, newest first; filtered by flag and environment when given.</summary>
    public Task<IReadOnlyList<RolloutState>> ListAsync(string? flag, string? environment, bool activeOnly, CancellationToken cancellationToken)
        => reader.ListAsync(flag, environment, activeOnly, cancellationToken);

    /// <summary>Records every active rollout of the flag as rolled back after an emergency rollback switched it off.</summary>
    internal Task<IReadOnlyList<string>> EndAfterEmergencyRollbackAsync(FlagMutation request, RollbackResult rollback, CancellationToken cancellationToken)
        => ending.EndAfterEmergencyRollbackAsync(request, rollback, cancellationToken);
}
