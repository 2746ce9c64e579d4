using System.Collections.Concurrent;
using System.Management.Automation;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;
using PMS.Flags.Engine.Reporting;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Plumbing every PMS.Flags cmdlet shares: resolving the store and ledger, cancelling on Ctrl+C, running engine work
/// while pumping its narration onto the pipeline thread, and turning engine refusals into ErrorRecords with stable ids.
/// </summary>
public abstract class FlagCmdletBase : PSCmdlet
{
    private readonly CancellationTokenSource cancellation = new();

    /// <summary>pwsh's file-system location, read on the pipeline thread: relative state paths resolve against it.</summary>
    private string? stateBaseDirectory;

    private bool defaultLedgerAnnounced;

    protected CancellationToken CancellationToken => cancellation.Token;

    protected override void StopProcessing() => cancellation.Cancel();

    protected override void ProcessRecord()
    {
        stateBaseDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        try
        {
            ProcessFlagRecord();
        }
        catch (FlagsException ex) when (IsPerRecord(ex))
        {
            // A refusal of one piped item (it does not exist, it needs a ticket, it names a pattern) should not stop
            // the rest of the pipeline: -ErrorAction decides.
            WriteError(ToErrorRecord(ex));
        }
        catch (FlagsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    protected override void EndProcessing()
    {
        stateBaseDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        try
        {
            EndFlagProcessing();
        }
        catch (FlagsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    protected abstract void ProcessFlagRecord();

    private static bool IsPerRecord(FlagsException ex)
        => ex.Kind is FlagsErrorKind.ObjectNotFound or FlagsErrorKind.PermissionDenied
           || ex.ErrorId is "FlagWildcardNotAccepted" or "FlagNotBoolean";

    protected virtual void EndFlagProcessing()
    {
    }

    /// <summary>
    /// Runs engine work off the pipeline thread and pumps its verbose, warning and progress output until it ends. If
    /// writing that output throws (-WarningAction Stop, a closed pipeline), the rest of the output is dropped but the
    /// work is awaited to its end -- it may be between "flag off" and "rollback recorded" -- and the failure is thrown after.
    /// </summary>
    private protected T Run<T>(Func<PipelineLog, CancellationToken, Task<T>> work)
    {
        var queue = new BlockingCollection<Action>();
        var log = new PipelineLog(queue, this);
        var task = Task.Run(
            () =>
            {
                // Stores connected earlier narrate through the ambient log; point it at this command for this flow.
                AmbientOperationLog.Current = log.Engine;
                return work(log, CancellationToken);
            },
            CancellationToken);
        task.ContinueWith(_ => queue.CompleteAdding(), TaskScheduler.Default);
        Exception? sinkFailure = null;
        foreach (var action in queue.GetConsumingEnumerable())
        {
            if (sinkFailure is not null)
            {
                continue;
            }

            try
            {
                action();
            }
            catch (Exception ex)
            {
                sinkFailure = ex;
            }
        }

        // Every producer is done once the queue completed, so it can be disposed without failing a late log call.
        ((Task)task).ContinueWith(_ => queue.Dispose(), TaskScheduler.Default).Wait();
        if (sinkFailure is not null && task.IsCompletedSuccessfully)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(sinkFailure).Throw();
        }

        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected IFlagStore ResolveStore(IFlagStore? explicitStore)
    {
        if (explicitStore is not null)
        {
            return explicitStore;
        }

        if (FlagSession.Current.Store is { } connected)
        {
            return connected;
        }

        if (FlagSession.Current.FailedStoreConnect is { } failed)
        {
            throw new FlagsException("StoreNotConnected", FlagsErrorKind.ResourceUnavailable, $"The session has no flag store: the last Connect-FlagStore ({failed}) failed, and the store connected before it is no longer the default. Run Connect-FlagStore again, or pass -Store.");
        }

        var conventional = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path.Combine("apps", "backend", "config", "feature_flags.json"));
        if (File.Exists(conventional))
        {
            WriteVerbose($"No store connected; using the repository's flag document '{conventional}'.");
            var store = new LocalFileFlagStore(conventional);
            FlagSession.Current.Store = store;
            return store;
        }

        throw new FlagsException("NoFlagStore", FlagsErrorKind.ResourceUnavailable, "No flag store is connected. Run Connect-FlagStore -Path <feature_flags.json> (or -LaunchDarkly) first, or pass -Store.");
    }

    /// <param name="verifyOnOpen">False only for commands that diagnose or repair a ledger: they must open a broken one.</param>
    protected ILedger ResolveLedger(ILedger? explicitLedger, bool verifyOnOpen = true) => ResolveLedger(explicitLedger, verifyOnOpen, out _, out _);

    /// <summary>
    /// The ledger for a command that changes something in <paramref name="environment"/>, after the ledger policy
    /// (<see cref="LedgerPolicy"/>): a change in a protected environment without a chosen ledger is refused here,
    /// before anything changes; a switch-off goes on and is told where its event went. The one place the policy is applied.
    /// </summary>
    protected ILedger ResolveLedgerFor(ILedger? explicitLedger, LedgerUse use, string? environment, IReadOnlyCollection<string> protectedEnvironments)
    {
        var ledger = ResolveLedger(explicitLedger, true, out var choice, out var defaultPath);
        foreach (var warning in LedgerPolicy.Check(choice, use, environment, protectedEnvironments, MyInvocation.MyCommand.Name, defaultPath ?? ledger.Name))
        {
            WriteWarning(warning);
        }

        return ledger;
    }

    private ILedger ResolveLedger(ILedger? explicitLedger, bool verifyOnOpen, out LedgerChoice choice, out string? defaultPath)
    {
        defaultPath = null;
        if (explicitLedger is not null)
        {
            choice = LedgerChoice.Parameter;
            return explicitLedger;
        }

        if (FlagSession.Current.Ledger is { } connected)
        {
            choice = LedgerChoice.Connected;
            return connected;
        }

        if (FlagSession.Current.FailedLedgerConnect is { } failed)
        {
            throw new FlagsException("LedgerNotConnected", FlagsErrorKind.ResourceUnavailable, $"The session has no ledger: the last Connect-FlagLedger ({failed}) failed, and neither the ledger connected before it nor the default ledger is used in its place. Run Connect-FlagLedger again, or pass -Ledger.");
        }

        var path = StatePaths.DefaultLedger(baseDirectory: StateBaseDirectory);
        defaultPath = path;
        choice = StatePaths.LedgerChosenByVariable() ? LedgerChoice.EnvironmentVariable : LedgerChoice.Default;
        var announcement = $"No ledger connected; using the default ledger '{path}' (set PMS_FLAGS_LEDGER or run Connect-FlagLedger to choose another).";
        if (choice == LedgerChoice.Default && LedgerPolicy.AnnouncesDefaultLedgerAsWarning() && !defaultLedgerAnnounced)
        {
            // A CI runner's files do not outlive the job: say so where the job log shows it, not only under -Verbose.
            defaultLedgerAnnounced = true;
            WriteWarning($"{announcement} This CI runner's copy is deleted with the runner.");
        }
        else
        {
            WriteVerbose(announcement);
        }

        var ledger = new JsonlLedger(path);
        if (verifyOnOpen && FlagSession.Current.VerifiedDefaultLedger != path)
        {
            Engine.Ledger.Checkpoints.LedgerOpening.Verify(ledger, skip: false, keys: null, CancellationToken);
            FlagSession.Current.VerifiedDefaultLedger = path;
        }

        return ledger;
    }

    private string StateBaseDirectory => stateBaseDirectory ??= SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    protected AuditTrail AuditTrailFor(ILedger ledger, IOperationLog log) => new(ledger, new AuditSpool(StatePaths.SpoolDirectory(baseDirectory: stateBaseDirectory)), log) { Readiness = readinessPolicy };

    private Newtonsoft.Json.Linq.JObject? readinessPolicy;

    /// <summary>
    /// The readiness gate, for changes that expose a flag (Start-FlagRollout, Set-FlagPercentage above 0, Enable-Flag):
    /// in a protected environment the checklist must pass, or -OverrideReadiness records its own event first. The
    /// policy it applied is then recorded in every event of the change. Never called for switching off or rollbacks.
    /// </summary>
    private protected void EnsureReady(IFlagStore store, ILedger ledger, string flag, string environment, PlanFingerprint? plan, string reason, string? ticket, string user)
    {
        var overriding = MyInvocation.BoundParameters.TryGetValue("OverrideReadiness", out var value) && value is SwitchParameter { IsPresent: true };
        readinessPolicy = Run((log, ct) => new ReadinessGate(store, AuditTrailFor(ledger, log.Engine)).EnsureReadyAsync(flag, environment, plan, overriding ? reason : null, user, ticket, ct));
    }

    /// <summary>
    /// The -Notify hook: runs AFTER the command's work, sends through each channel within its short timeout, records
    /// the outcome, and turns failures into warnings; it never throws, so a rollback's result stands whatever the
    /// receivers do. Empty channels: nothing at all happens (no HTTP stack is loaded).
    /// </summary>
    private protected void NotifyAfter(IReadOnlyList<object>? channels, ILedger ledger, string? user, Func<Engine.Notifications.FlagNotifier, CancellationToken, Task<IReadOnlyList<Engine.Notifications.NotificationDelivery>>> send)
    {
        if (channels is null || channels.Count == 0)
        {
            return;
        }

        Run(async (log, ct) =>
        {
            var notifier = new Engine.Notifications.FlagNotifier(channels.Cast<Engine.Notifications.NotificationChannel>().ToArray(), AuditTrailFor(ledger, log.Engine), UserIdentity.Resolve(user));
            return await send(notifier, ct).ConfigureAwait(false);
        });
    }

    /// <summary>Runs work with a rollout engine over this store and ledger; the engine folds its state from the ledger each time.</summary>
    private protected T RunWithRollouts<T>(IFlagStore store, ILedger ledger, Func<RolloutEngine, PipelineLog, CancellationToken, Task<T>> work)
        => Run(async (log, ct) =>
        {
            using var guardrails = new GuardrailFactory();
            var engine = new RolloutEngine(store, AuditTrailFor(ledger, log.Engine), guardrails);
            return await work(engine, log, ct).ConfigureAwait(false);
        });

    /// <summary>
    /// Tells people what a rollout step did: a warning for a pause (a rollback already warns from the engine, with its
    /// detection-to-flag-off time), and the CI system's annotations and job summary as Write-Host would print them.
    /// </summary>
    /// <returns>Why the job summary could not be written, or null: the caller warns AFTER writing its result object.</returns>
    protected string? ReportStep(RolloutStepResult step)
    {
        if (step.Action is RolloutStepAction.Paused)
        {
            WriteWarning($"Rollout {step.RolloutId}: {step.Action} — {step.Reason}");
        }

        var reporter = new CiReporter();
        foreach (var line in reporter.Annotations(step))
        {
            WriteInformation(new HostInformationMessage { Message = line }, new[] { "PSHOST" });
        }

        try
        {
            if (reporter.AppendSummary(step) is { } summary)
            {
                WriteVerbose($"Appended the step's summary to '{summary}'.");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"The rollout step is done, but its job summary could not be written to GITHUB_STEP_SUMMARY ({ex.Message}).";
        }

        return null;
    }

    protected string ResolveEnvironment(string? environment, IFlagStore store)
        => !string.IsNullOrWhiteSpace(environment) ? environment!
            : store.DefaultEnvironment ?? throw new FlagsException("EnvironmentRequired", FlagsErrorKind.InvalidArgument, "No environment given: pass -Environment, or connect the store with -Environment to set a default.");

    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>The cluster a command acts on, with -KubeConfig resolved against pwsh's location like every other path.</summary>
    private protected PMS.Flags.Engine.Kubernetes.KubernetesTarget KubernetesTargetFor(string? kubeConfig, string? kubeContext, string @namespace, string deployment) => new()
    {
        KubeConfigPath = kubeConfig is null ? null : ResolvePath(kubeConfig),
        Context = kubeContext,
        Namespace = @namespace,
        Deployment = deployment,
    };

    protected bool WhatIfRequested
        => (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) && whatIf is SwitchParameter { IsPresent: true })
           || (!MyInvocation.BoundParameters.ContainsKey("WhatIf") && SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter { IsPresent: true } or true);

    /// <summary>
    /// ShouldProcess, except that -Force skips the prompt a command asks by its ConfirmImpact — but never the one an
    /// explicit -Confirm asked for, nor the -WhatIf preview.
    /// </summary>
    protected bool ShouldProcessUnlessForced(bool force, string target, string action)
    {
        var confirmAsked = MyInvocation.BoundParameters.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: true };
        return (force && !confirmAsked && !WhatIfRequested) || ShouldProcess(target, action);
    }

    protected ErrorRecord ToErrorRecord(FlagsException ex) => new(ex, ex.ErrorId, Category(ex.Kind), ex.Target);

    private static ErrorCategory Category(FlagsErrorKind kind) => kind switch
    {
        FlagsErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FlagsErrorKind.InvalidData => ErrorCategory.InvalidData,
        FlagsErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        FlagsErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FlagsErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        FlagsErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        FlagsErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        FlagsErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        FlagsErrorKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        FlagsErrorKind.WriteError => ErrorCategory.WriteError,
        _ => ErrorCategory.InvalidOperation,
    };
}
