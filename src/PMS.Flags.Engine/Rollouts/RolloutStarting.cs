using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Rollouts;

/// <summary>
/// Starts rollouts and previews them: validates the plan, checks that no rollout of the flag is active, evaluates the
/// guardrails once, records rollout_started on the flag's stream (so two starts of one flag are one decision) and
/// hands the first stage to <see cref="RolloutStepping"/>.
/// </summary>
internal sealed class RolloutStarting
{
    private readonly RolloutContext context;
    private readonly GuardrailFactory guardrailFactory;
    private readonly RolloutStepping stepping;

    public RolloutStarting(RolloutContext context, GuardrailFactory guardrails, RolloutStepping stepping)
    {
        this.context = context;
        guardrailFactory = guardrails;
        this.stepping = stepping;
    }

    private RolloutReader Reader => context.Reader;

    public async Task<RolloutPreview> PreviewAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var current = await ValidateAsync(plan, cancellationToken).ConfigureAwait(false);
        await EnsureStartableAsync(plan, cancellationToken).ConfigureAwait(false);
        var results = await PreflightAsync(plan, current, cancellationToken).ConfigureAwait(false);
        return plan.Preview(current, results);
    }

    public async Task<RolloutState> StartAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var current = await ValidateAsync(plan, cancellationToken).ConfigureAwait(false);

        // Checked here as well as under the expected head below, so a second rollout is refused before Prometheus is asked.
        await EnsureStartableAsync(plan, cancellationToken).ConfigureAwait(false);
        var baseline = await PreflightAsync(plan, current, cancellationToken).ConfigureAwait(false);
        foreach (var unhealthy in baseline.Where(b => b.Status != GuardrailStatus.Healthy))
        {
            context.Log.Warning($"Before the rollout starts, {unhealthy.Evidence}");
        }

        // Fail closed: a guardrail that cannot see anything now cannot protect the first stage either.
        var blind = baseline.Where(b => b.Status is GuardrailStatus.NoData or GuardrailStatus.Error && b.NoData != NoDataPolicy.Pass).ToArray();
        if (blind.Length > 0)
        {
            throw new FlagsException(
                "RolloutGuardrailNoData",
                FlagsErrorKind.InvalidOperation,
                $"The rollout was not started: {string.Join(" | ", blind.Select(b => b.Evidence))}. A guardrail without data cannot protect the first stage; fix its query or source, or give it -NoData Pass.",
                plan.Flag);
        }

        await context.Audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);

        // Spooled ends go into the ledger first; the check under the head folds whatever is still spooled.
        await Reader.FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
        await context.Decisions.RunAsync<long, bool>(
            LedgerStream.FlagIn(plan.Flag, plan.Environment),
            async ct =>
            {
                // No rollout of this flag may start between this check and the append: they are one decision on the flag's stream.
                var head = await context.Audit.Ledger.GetHeadSequenceAsync(ct).ConfigureAwait(false);
                await EnsureStartableAsync(plan, ct).ConfigureAwait(false);
                return (head, head);
            },
            _ => Task.FromResult(StreamDecision<bool>.Append(new[] { context.Events.Started(plan, current, baseline) }, _ => Task.FromResult(true))),
            afterChange: false,
            () => RolloutRefusals.LedgerBusy(plan.RolloutId),
            cancellationToken).ConfigureAwait(false);

        context.Log.Verbose($"Recorded rollout_started for {plan}.");
        var state = await Reader.LoadAsync(plan.RolloutId, cancellationToken).ConfigureAwait(false);
        try
        {
            await stepping.ClaimAndApplyFirstStageAsync(state, plan.User, "start", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FlagsException or IOException or HttpRequestException)
        {
            context.Log.Warning($"Rollout {plan.RolloutId} is recorded, but setting its first stage failed ({ex.Message}). Step-FlagRollout applies it again after {GuardrailResult.Duration(context.Options.StageApplyGrace)}; Stop-FlagRollout abandons it.");
            throw;
        }

        return await Reader.LoadAsync(plan.RolloutId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<FlagState> ValidateAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        plan.Validate();
        FlagOperations.Validate(context.Store, RolloutMutations.Stage(plan, 0, plan.User));
        foreach (var definition in plan.Guardrails)
        {
            guardrailFactory.Create(definition);
        }

        var current = (await context.Store.GetFlagsAsync(plan.Environment, plan.Flag, cancellationToken).ConfigureAwait(false))[0];

        // A rollout only raises exposure; starting one on a flag already above its first stage would cut users off.
        if (current.On && current.EffectivePercentage > plan.Stages[0])
        {
            throw new FlagsException(
                "RolloutFlagAboveFirstStage",
                FlagsErrorKind.InvalidOperation,
                $"'{plan.Flag}' in '{plan.Environment}' is already on at {FlagPercentage.Format(current.EffectivePercentage ?? 0)}%, above the first stage ({FlagPercentage.Format(plan.Stages[0])}%). Start from a lower state or choose stages above it.",
                plan.Flag);
        }

        return current;
    }

    private async Task EnsureStartableAsync(RolloutPlan plan, CancellationToken cancellationToken)
    {
        var active = await Reader.ActiveAsync(plan.Flag, plan.Environment, cancellationToken).ConfigureAwait(false);
        if (active.Count > 0)
        {
            throw new FlagsException(
                "RolloutAlreadyActive",
                FlagsErrorKind.InvalidOperation,
                $"'{plan.Flag}' in '{plan.Environment}' already has an active rollout: {active[0]}. Step, resume or stop it first.",
                active[0].RolloutId);
        }

        if ((await context.Audit.Ledger.ReadListAsync(new AuditQuery { RolloutId = plan.RolloutId, First = 1 }, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            throw new FlagsException("RolloutIdInUse", FlagsErrorKind.InvalidArgument, $"The ledger already has events for rollout id '{plan.RolloutId}'; choose another id.", plan.RolloutId);
        }
    }

    private async Task<IReadOnlyList<GuardrailResult>> PreflightAsync(RolloutPlan plan, FlagState current, CancellationToken cancellationToken)
    {
        // Unlike during a Step, a rejected query here is a bad input: it throws PrometheusQueryRejected before any change.
        var guardrailContext = GuardrailContext.BeforeRollout(current.EffectivePercentage);
        var tasks = plan.Guardrails.Select(d => guardrailFactory.Create(d).EvaluateAsync(guardrailContext, cancellationToken)).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
