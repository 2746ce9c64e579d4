using System.Globalization;
using System.Management.Automation;
using System.Text;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Start, "FlagRollout", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RolloutState))]
public sealed class StartFlagRolloutCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    public double[] Stages { get; set; } = { 5, 25, 50, 100 };

    [Parameter]
    public TimeSpan BakeTime { get; set; } = TimeSpan.FromMinutes(30);

    [Parameter]
    public GuardrailDefinition[] Guardrail { get; set; } = Array.Empty<GuardrailDefinition>();

    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    public string? Rule { get; set; }

    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Start in a protected environment although the checklist does not pass; recorded as readiness_overridden with -Reason.</summary>
    [Parameter]
    public SwitchParameter OverrideReadiness { get; set; }

    /// <summary>How often the driving loop steps the rollout (guardrail evaluation interval) while it waits.</summary>
    [Parameter]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    // Told after each change the rollout makes (start, stage, completion, rollback), never before it.
    [Parameter]
    public Engine.Notifications.NotificationChannel[]? Notify { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            throw new FlagsException("RolloutPollIntervalInvalid", FlagsErrorKind.InvalidArgument, "-PollInterval must be positive.", PollInterval);
        }

        var store = ResolveStore(Store);
        var ledger = WhatIfRequested ? ResolveLedger(Ledger) : null;
        var plan = new RolloutPlan
        {
            RolloutId = RolloutPlan.NewRolloutId(),
            Flag = Flag,
            Environment = ResolveEnvironment(Environment, store),
            Stages = RolloutPlan.StagesFrom(Stages),
            BakeTime = BakeTime,
            Guardrails = Guardrail,
            Reason = Reason,
            ApprovalTicket = string.IsNullOrWhiteSpace(ApprovalTicket) ? null : ApprovalTicket,
            User = UserIdentity.Resolve(User),
            Rule = Rule,
        };
        plan.Validate();
        var target = $"{plan.Flag} in {plan.Environment} ({store.Name})";

        if (WhatIfRequested)
        {
            var preview = RunWithRollouts(store, ledger!, (engine, _, ct) => engine.PreviewAsync(plan, ct));
            ShouldProcess(target, Describe(preview));
            return;
        }

        ledger = ResolveLedgerFor(Ledger, LedgerUse.Change, plan.Environment, store.ProtectedEnvironments);
        if (!ShouldProcess(target, $"Start a rollout {string.Join(" -> ", plan.Stages.Select(FlagPercentage.Format))}% with {plan.Guardrails.Count} guardrail(s), baking {plan.BakeTime} per stage"))
        {
            return;
        }

        EnsureReady(store, ledger, plan.Flag, plan.Environment, PlanFingerprint.Of(plan), plan.Reason, plan.ApprovalTicket, plan.User);
        var state = RunWithRollouts(store, ledger, async (engine, log, ct) =>
        {
            var started = await engine.StartAsync(plan, ct).ConfigureAwait(false);
            log.Engine.Verbose($"Rollout {started.RolloutId} started at {FlagPercentage.Format(started.Percentage ?? 0)}%.");
            var notifier = Notifier(ledger, log);
            await notifier.RolloutStartedAsync(started, ct).ConfigureAwait(false);
            return NoWait ? started : await DriveAsync(engine, started, notifier, log, ct).ConfigureAwait(false);
        });
        WriteObject(state);
    }

    /// <summary>
    /// Steps the rollout until it ends or pauses, sleeping between steps. Every decision is in the ledger before the
    /// next sleep, so Ctrl+C at any point leaves a rollout that Step-FlagRollout or Resume-FlagRollout can continue.
    /// </summary>
    private Engine.Notifications.FlagNotifier Notifier(ILedger ledger, PipelineLog log)
        => new(Notify ?? Array.Empty<Engine.Notifications.NotificationChannel>(), AuditTrailFor(ledger, log.Engine), UserIdentity.Resolve(User));

    private async Task<RolloutState> DriveAsync(RolloutEngine engine, RolloutState state, Engine.Notifications.FlagNotifier notifier, PipelineLog log, CancellationToken cancellationToken)
    {
        var progress = new ProgressRecord(1, $"Rollout of {state.Flag} in {state.Environment}", "starting");
        while (true)
        {
            var step = await engine.StepAsync(state.RolloutId, state.StartedBy, cancellationToken).ConfigureAwait(false);
            state = step.State;
            log.Engine.Verbose($"Step: {step.Action} — {step.Reason}");
            await notifier.SteppedAsync(step, cancellationToken).ConfigureAwait(false);
            log.Post(() =>
            {
                if (ReportStep(step) is { } reportFailure)
                {
                    WriteWarning(reportFailure);
                }
            });
            if (state.Status is not RolloutStatus.Running)
            {
                log.Post(() => WriteProgress(new ProgressRecord(1, progress.Activity, "done") { RecordType = ProgressRecordType.Completed }));
                return state;
            }

            var remaining = step.RemainingBake ?? TimeSpan.Zero;
            var wait = remaining > TimeSpan.Zero && remaining < PollInterval ? remaining : PollInterval;
            var stageShare = state.StageCount == 0 ? 0 : (int)(100.0 * Math.Max(0, state.StageNumber - 1) / state.StageCount);
            var values = string.Join("; ", step.Guardrails.Select(g => $"{g.Guardrail} {g.ValueText} {g.ThresholdText} ({g.Status})"));
            var record = new ProgressRecord(1, progress.Activity, $"stage {state.StageNumber}/{state.StageCount} at {FlagPercentage.Format(state.Percentage ?? 0)}%, bake left {Format(remaining)}")
            {
                PercentComplete = Math.Clamp(stageShare, 0, 100),
                SecondsRemaining = (int)Math.Ceiling(remaining.TotalSeconds),
                CurrentOperation = values.Length == 0 ? "no guardrails" : values,
            };
            log.Post(() => WriteProgress(record));
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(RolloutPreview preview)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Start a rollout of {preview.Flag} in {preview.Environment}");
        if (preview.Current is { } current)
        {
            text.Append(CultureInfo.InvariantCulture, $" (now {(current.On ? "on" : "off")} at {FlagPercentage.Format(current.EffectivePercentage ?? 0)}%)");
        }

        text.AppendLine(":");
        foreach (var stage in preview.Stages)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  stage {stage.Number}: {FlagPercentage.Format(stage.Percentage)}% at +{Format(stage.EarliestStart)}, bake {Format(stage.BakeTime)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  minimum total duration: {Format(preview.MinimumTotalDuration)}");
        foreach (var result in preview.GuardrailResults)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  guardrail {result.Guardrail} [{result.Severity}]: now {(result.Value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "no data")} against {result.ThresholdText} ({result.Status})");
        }

        return text.ToString().TrimEnd();
    }

    private static string Format(TimeSpan span) => span.ToString(span.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
}
