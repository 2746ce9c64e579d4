using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// The <c>-Notify</c> hook of the rollout and rollback commands: called AFTER the engine's work (after the flag is off,
/// for a rollback), it renders the message for what just happened from the plan or the ledger and sends it to every
/// channel within each channel's short timeout. It never throws: a message that cannot be rendered or sent is a
/// warning and, when sent or failed, an audit event. A chat service that hangs costs at most its timeout, after the fact.
/// </summary>
public sealed class FlagNotifier
{
    private const string StageTemplate = """
        Subject: [PMS] Feature Rollout Stage: [FEATURE_NAME] at [PERCENTAGE] in [ENVIRONMENT]

        [FEATURE_NAME] now reaches [PERCENTAGE] of users in [ENVIRONMENT] ([STATUS]), since [TIME].

        Timeline:
        [TIMELINE]

        Monitoring: [DASHBOARD_LINK]
        """;

    private readonly IReadOnlyList<NotificationChannel> channels;
    private readonly AuditTrail audit;
    private readonly string user;
    private readonly NotificationFacts.Extras? extras;

    public FlagNotifier(IReadOnlyList<NotificationChannel> channels, AuditTrail audit, string user, NotificationFacts.Extras? extras = null)
    {
        this.channels = channels;
        this.audit = audit;
        this.user = user;
        this.extras = extras;
    }

    public bool Enabled => channels.Count > 0;

    /// <summary>A rollout has started: the playbook's pre-rollout message, its timeline from the plan.</summary>
    public Task<IReadOnlyList<NotificationDelivery>> RolloutStartedAsync(RolloutState state, CancellationToken cancellationToken)
        => SendAsync(() => NotificationRenderer.Render(NotificationTemplates.PreRollout, NotificationTemplates.Text(NotificationTemplates.PreRollout), NotificationFacts.ForPlan(state.Plan, state.StartedAt, extras), NotificationRenderer.TextFormat), state.RolloutId, cancellationToken);

    /// <summary>After a step: a stage change, the completion or the rollback is announced; waiting and pausing are not.</summary>
    public Task<IReadOnlyList<NotificationDelivery>> SteppedAsync(RolloutStepResult step, CancellationToken cancellationToken) => step.Action switch
    {
        RolloutStepAction.Advanced => SendAsync(() => NotificationRenderer.Render("Stage", StageTemplate, NotificationFacts.ForStage(step.State, step.At, extras), NotificationRenderer.TextFormat), step.RolloutId, cancellationToken),
        RolloutStepAction.Completed => FromLedgerAsync(NotificationTemplates.RolloutComplete, step.Flag, step.Environment, step.RolloutId, cancellationToken),
        RolloutStepAction.RolledBack => RolledBackAsync(step.Flag, step.Environment, step.RolloutId, cancellationToken),
        _ => Task.FromResult<IReadOnlyList<NotificationDelivery>>(Array.Empty<NotificationDelivery>()),
    };

    /// <summary>After a rollback (emergency, stopped or guardrail): the playbook's rollback message from the ledger.</summary>
    public Task<IReadOnlyList<NotificationDelivery>> RolledBackAsync(string flag, string environment, string? rolloutId, CancellationToken cancellationToken)
        => FromLedgerAsync(NotificationTemplates.Rollback, flag, environment, rolloutId, cancellationToken);

    /// <summary>Renders a built-in template from the flag's events in the ledger; throws NotificationNothingToReport when there is nothing to say.</summary>
    public static async Task<FlagNotification> RenderFromLedgerAsync(ILedger ledger, string template, string flag, string environment, string? templateText, string format, NotificationFacts.Extras? extras, CancellationToken cancellationToken)
    {
        template = NotificationTemplates.Canonical(template);
        var events = new List<AuditEvent>();
        await foreach (var e in ledger.ReadAsync(new AuditQuery { Flag = flag, Environment = environment }, cancellationToken).ConfigureAwait(false))
        {
            events.Add(e);
        }

        var facts = template == NotificationTemplates.Rollback ? NotificationFacts.ForRollback(events, extras) : NotificationFacts.ForCompletion(events, extras);
        if (facts is null)
        {
            throw new Common.FlagsException(
                "NotificationNothingToReport",
                Common.FlagsErrorKind.ObjectNotFound,
                $"The ledger {ledger.Name} holds no {(template == NotificationTemplates.Rollback ? "rollback" : "completed rollout")} of '{flag}' in '{environment}' to report.",
                flag);
        }

        return NotificationRenderer.Render(template, templateText ?? NotificationTemplates.Text(template), facts, format);
    }

    private async Task<IReadOnlyList<NotificationDelivery>> FromLedgerAsync(string template, string flag, string environment, string? rolloutId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Array.Empty<NotificationDelivery>();
        }

        FlagNotification notification;
        try
        {
            notification = await RenderFromLedgerAsync(audit.Ledger, template, flag, environment, null, NotificationRenderer.TextFormat, extras, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Common.FlagsException or LedgerException)
        {
            audit.Log.Warning($"No {template} notification was sent: {ex.Message}");
            return Array.Empty<NotificationDelivery>();
        }

        return await SendAsync(() => notification, rolloutId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<NotificationDelivery>> SendAsync(Func<FlagNotification> render, string? rolloutId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Array.Empty<NotificationDelivery>();
        }

        FlagNotification notification;
        try
        {
            notification = render();
        }
        catch (Common.FlagsException ex)
        {
            audit.Log.Warning($"No notification was sent: {ex.Message}");
            return Array.Empty<NotificationDelivery>();
        }

        using var sender = new NotificationSender();
        var deliveries = await sender.SendAsync(channels, notification, audit, user, rolloutId, cancellationToken).ConfigureAwait(false);
        foreach (var failed in deliveries.Where(d => !d.Succeeded))
        {
            audit.Log.Warning($"The {notification.Event} notification to {failed.Channel} ({failed.Kind}) was not sent: {failed.Error}. The {(notification.Event == "rollback" ? "rollback" : "rollout")} itself is unaffected; the failure is recorded as {NotificationEventTypes.Failed}.");
        }

        return deliveries;
    }
}
