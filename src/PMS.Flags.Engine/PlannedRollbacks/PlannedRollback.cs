using System.Diagnostics;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>
/// The playbook's "Planned Rollback with Database Migration": flag off, stabilize, alembic downgrade, verify the
/// revision, optionally undo the deployment, health check. Every step is an event of one stream (rollout_id
/// <c>planned-rollback:&lt;environment&gt;/&lt;flag&gt;</c>) appended through <see cref="StreamDecisionLoop"/>; a run stays
/// open until it completes, so running the same command after a crash or a failed step resumes at the first
/// unfinished step instead of repeating what was done. Everything that could refuse (data loss, alembic missing,
/// ledger unwritable) is checked before the flag is touched.
/// </summary>
public sealed class PlannedRollback
{
    private const int MaxDecisionAttempts = 8;
    private readonly IFlagStore store;
    private readonly AuditTrail audit;
    private readonly MigrationService migrations;
    private readonly StreamDecisionLoop decisions;

    public PlannedRollback(IFlagStore store, AuditTrail audit, MigrationService migrations)
    {
        this.store = store;
        this.audit = audit;
        this.migrations = migrations;
        decisions = new StreamDecisionLoop(audit, MaxDecisionAttempts);
    }

    public static string IdFor(string flag, string environment) => $"{environment}/{flag}".ToLowerInvariant();

    public static string StreamIdFor(string flag, string environment) => "planned-rollback:" + IdFor(flag, environment);

    /// <summary>The downgrade a new run would make (its target resolved now), for -WhatIf and the refusal before anything changes.</summary>
    public async Task<MigrationPlan> PlanDowngradeAsync(string requested, CancellationToken cancellationToken)
    {
        var plan = await migrations.PlanAsync(MigrationAction.Downgrade, requested, cancellationToken).ConfigureAwait(false);
        if (plan.Target.Count > 1)
        {
            throw new FlagsException(MigrationErrorIds.AmbiguousRevision, FlagsErrorKind.InvalidArgument, $"Downgrading to '{requested}' leaves several heads ({MigrationPlan.Describe(plan.Target)}); a planned rollback verifies one revision. Name it with -MigrationTarget.", requested);
        }

        return plan;
    }

    /// <summary>Whether an unfinished run exists, and which steps it already did (for -WhatIf).</summary>
    public async Task<IReadOnlyCollection<string>> UnfinishedStepsDoneAsync(string flag, string environment, CancellationToken cancellationToken)
    {
        var (run, _) = await FoldAsync(LedgerStream.Rollout(StreamIdFor(flag, environment)), cancellationToken).ConfigureAwait(false);
        return run.Open ? run.Done.Keys.ToArray() : Array.Empty<string>();
    }

    public async Task<PlannedRollbackResult> RunAsync(PlannedRollbackRequest request, CancellationToken cancellationToken)
    {
        var mutation = request.FlagOff;
        FlagOperations.Validate(store, mutation);
        if (request.StabilizeFor < TimeSpan.Zero)
        {
            throw new FlagsException(PlannedRollbackErrorIds.StabilizeInvalid, FlagsErrorKind.InvalidArgument, $"-StabilizeFor must not be negative (was {request.StabilizeFor}).");
        }

        var log = audit.Log;
        var streamId = StreamIdFor(mutation.Flag, mutation.Environment);
        var stream = LedgerStream.Rollout(streamId);
        await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        var (run, _) = await FoldAsync(stream, cancellationToken).ConfigureAwait(false);
        var resumed = run.Open;
        if (!resumed)
        {
            // Every refusal comes before the flag is touched: data loss, several heads, alembic missing.
            var plan = await PlanDowngradeAsync(request.MigrationTarget, cancellationToken).ConfigureAwait(false);
            MigrationService.RefuseDataLoss(plan, request.AllowDataLoss);
            await migrations.Alembic.EnsureAvailableAsync(log, cancellationToken).ConfigureAwait(false);
            var started = Event(mutation, streamId, PlannedRollbackEventTypes.Started, "started", new JObject
            {
                ["run_id"] = Guid.NewGuid().ToString("D"),
                ["database"] = migrations.Database.Name,
                ["requested_target"] = request.MigrationTarget,
                ["from_revisions"] = new JArray(plan.From),
                ["target_revisions"] = new JArray(plan.Target),
                ["crossed"] = new JArray(plan.Crossed.Select(r => new JObject { ["revision"] = r.Revision, ["classification"] = r.Classification.ToString() })),
                ["allow_data_loss"] = request.AllowDataLoss,
                ["stabilize_seconds"] = request.StabilizeFor.TotalSeconds,
                ["via"] = migrations.Alembic.Via,
                ["undo_deployment"] = request.UndoDeploymentDescription,
                ["health_check"] = request.HealthCheckDescription,
            });
            run = await decisions.RunAsync<PlannedRollbackRun, PlannedRollbackRun>(
                stream,
                ct => FoldAsync(stream, ct),
                state => Task.FromResult(state.Open
                    ? StreamDecision<PlannedRollbackRun>.Done(state)
                    : StreamDecision<PlannedRollbackRun>.Append(new[] { started }, async _ => (await FoldAsync(stream, CancellationToken.None).ConfigureAwait(false)).Run)),
                afterChange: false,
                Busy,
                cancellationToken).ConfigureAwait(false);
            log.Verbose($"Planned rollback {streamId}: downgrade {MigrationPlan.Describe(plan.From)} -> {MigrationPlan.Describe(run.Target)}.");
        }
        else
        {
            log.Verbose($"Resuming planned rollback {streamId} (run {run.RunId}): already done: {(run.Done.Count == 0 ? "nothing" : string.Join(", ", run.Done.Keys))}.");
            if (!run.Done.ContainsKey(PlannedRollbackStep.Downgrade))
            {
                await migrations.Alembic.EnsureAvailableAsync(log, cancellationToken).ConfigureAwait(false);
            }
        }

        var target = run.Target;
        var flagOffAt = run.FlagOffAt;
        var flagIsOff = run.Done.ContainsKey(PlannedRollbackStep.FlagOff);
        var rows = new List<PlannedRollbackStep>();
        var steps = new List<(string Name, Func<CancellationToken, Task<(string Detail, JObject? Extra)>>? Action)>
        {
            (PlannedRollbackStep.FlagOff, async ct =>
            {
                var record = await new FlagOperations(store, audit).ChangeAsync(mutation, ct).ConfigureAwait(false);
                flagOffAt = DateTimeOffset.UtcNow;
                flagIsOff = true;
                var detail = record.Changed ? $"switched off in {store.Name} (was {(record.PreviousOn == true ? "on" : "off")})" : $"was already off in {store.Name}";
                return (detail, new JObject { ["at"] = flagOffAt.Value.UtcDateTime.ToString("O") });
            }),
            (PlannedRollbackStep.Stabilize, ct => StabilizeAsync(flagOffAt ?? DateTimeOffset.UtcNow, request, ct)),
            (PlannedRollbackStep.Downgrade, ct => DowngradeAsync(target, request, mutation, ct)),
            (PlannedRollbackStep.VerifyRevision, ct => VerifyRevisionAsync(target, ct)),
            (PlannedRollbackStep.UndoDeployment, request.UndoDeployment is null ? null : async ct => ((await request.UndoDeployment(ct).ConfigureAwait(false)), null)),
            (PlannedRollbackStep.HealthCheck, request.HealthCheck is null ? null : async ct => ((await request.HealthCheck(ct).ConfigureAwait(false)), null)),
        };

        foreach (var (name, action) in steps)
        {
            if (run.Done.TryGetValue(name, out var earlier))
            {
                var details = PlannedRollbackRun.Details(earlier);
                rows.Add(new PlannedRollbackStep { Step = name, Status = "DoneEarlier", Started = earlier.Timestamp, Duration = TimeSpan.FromMilliseconds((long?)details["duration_ms"] ?? 0), Detail = (string?)details["detail"] ?? "" });
                continue;
            }

            if (action is null)
            {
                rows.Add(new PlannedRollbackStep { Step = name, Status = "Skipped", Detail = "not asked for" });
                continue;
            }

            var startedAt = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            log.Verbose($"Planned rollback {streamId}: {name}.");
            (string Detail, JObject? Extra) outcome;
            try
            {
                outcome = await action(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var message = ex is FlagsException f ? $"{f.ErrorId}: {f.Message}" : ex.Message;
                rows.Add(new PlannedRollbackStep { Step = name, Status = "Failed", Started = startedAt, Duration = clock.Elapsed, Detail = message });
                rows.AddRange(steps.SkipWhile(s => s.Name != name).Skip(1).Select(s => new PlannedRollbackStep { Step = s.Name, Status = "NotRun", Detail = "stopped after the failed step" }));
                await RecordStepAsync(stream, mutation, run.RunId!, name, "failed", startedAt, clock.Elapsed, message, null).ConfigureAwait(false);
                var failed = await ResultAsync(false).ConfigureAwait(false);
                throw new FlagsException(PlannedRollbackErrorIds.StepFailed, FlagsErrorKind.InvalidOperation, $"Planned rollback of '{mutation.Flag}' in {mutation.Environment} stopped at {name}: {message} State: {failed.State}. Fix the cause and run the same command again: it resumes at {name}.", failed, ex)
                {
                    ChangeWasMade = flagIsOff,
                };
            }

            rows.Add(new PlannedRollbackStep { Step = name, Status = "Succeeded", Started = startedAt, Duration = clock.Elapsed, Detail = outcome.Detail });
            await RecordStepAsync(stream, mutation, run.RunId!, name, "succeeded", startedAt, clock.Elapsed, outcome.Detail, outcome.Extra).ConfigureAwait(false);
        }

        var result = await ResultAsync(true).ConfigureAwait(false);
        var completed = Event(mutation, streamId, PlannedRollbackEventTypes.Completed, "succeeded", new JObject { ["run_id"] = run.RunId, ["state"] = result.State });
        await decisions.RunAsync<PlannedRollbackRun, bool>(
            stream,
            ct => FoldAsync(stream, ct),
            state => Task.FromResult(state.Open && state.RunId == run.RunId ? StreamDecision<bool>.Append(new[] { completed }, _ => Task.FromResult(true)) : StreamDecision<bool>.Done(false)),
            afterChange: true,
            Busy,
            CancellationToken.None).ConfigureAwait(false);
        return result;

        async Task<PlannedRollbackResult> ResultAsync(bool succeeded)
        {
            var revision = await CurrentRevisionTextAsync().ConfigureAwait(false);
            var undone = rows.Any(r => r.Step == PlannedRollbackStep.UndoDeployment && r.Status is "Succeeded" or "DoneEarlier");
            var state = $"the flag is {(flagIsOff ? "OFF" : "unchanged")}; the database is at {revision} (target {MigrationPlan.Describe(target)}); the deployment was {(undone ? "rolled back" : "not rolled back")}";
            return new PlannedRollbackResult
            {
                RollbackId = streamId,
                Flag = mutation.Flag,
                Environment = mutation.Environment,
                Steps = rows.ToArray(),
                Succeeded = succeeded,
                Resumed = resumed,
                FlagOff = flagIsOff,
                DatabaseRevision = revision,
                TargetRevision = MigrationPlan.Describe(target),
                State = state,
            };
        }
    }

    private async Task<(string, JObject?)> StabilizeAsync(DateTimeOffset flagOffAt, PlannedRollbackRequest request, CancellationToken cancellationToken)
    {
        // Measured from when the flag went off, so a resumed run waits only for what is left.
        var until = flagOffAt + request.StabilizeFor;
        while (DateTimeOffset.UtcNow < until)
        {
            var remaining = until - DateTimeOffset.UtcNow;
            var percent = request.StabilizeFor <= TimeSpan.Zero ? 100 : (int)Math.Clamp(100 - (remaining.TotalMilliseconds * 100 / request.StabilizeFor.TotalMilliseconds), 0, 100);
            request.Progress?.Invoke($"Flag off since {flagOffAt:HH:mm:ss}; downgrade in {remaining:hh\\:mm\\:ss}", percent);
            await Task.Delay(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }

        request.Progress?.Invoke("Stabilized", 100);
        return ($"stable for {request.StabilizeFor} after the flag went off at {flagOffAt.UtcDateTime:u}", null);
    }

    private async Task<(string, JObject?)> DowngradeAsync(IReadOnlyList<string> target, PlannedRollbackRequest request, FlagMutation mutation, CancellationToken cancellationToken)
    {
        var status = await migrations.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        if (SameRevisions(status.Current, target))
        {
            // A run interrupted after alembic finished: the database is already where it was going.
            return ($"already at {MigrationPlan.Describe(target)}", null);
        }

        var plan = await migrations.PlanAsync(MigrationAction.Downgrade, target.Count == 0 ? RevisionGraph.Base : target[0], cancellationToken).ConfigureAwait(false);
        MigrationService.RefuseDataLoss(plan, request.AllowDataLoss);
        var migrationRequest = new MigrationRequest
        {
            Reason = mutation.Reason ?? "",
            User = mutation.User,
            Environment = mutation.Environment,
            ApprovalTicket = mutation.ApprovalTicket,
            AllowDataLoss = request.AllowDataLoss,
        };
        var result = await migrations.RunAsync(plan, migrationRequest, audit, audit.Log, cancellationToken).ConfigureAwait(false);
        return ($"alembic downgrade {MigrationPlan.Describe(result.From)} -> {MigrationPlan.Describe(result.To)} ({result.Steps.Count} step(s), {result.Via}), {(result.AuditSpooled ? "spooled" : "ledger #" + result.AuditSequence)}", new JObject { ["from_revisions"] = new JArray(result.From), ["to_revisions"] = new JArray(result.To) });
    }

    private async Task<(string, JObject?)> VerifyRevisionAsync(IReadOnlyList<string> target, CancellationToken cancellationToken)
    {
        var status = await migrations.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        if (!SameRevisions(status.Current, target))
        {
            throw new FlagsException(MigrationErrorIds.CurrentChanged, FlagsErrorKind.InvalidOperation, $"{migrations.Database.Name} is at {status.CurrentText}, not at the expected {MigrationPlan.Describe(target)}.");
        }

        return ($"{migrations.Database.Name} is at {status.CurrentText}", null);
    }

    private async Task<string> CurrentRevisionTextAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            return (await migrations.GetStatusAsync(timeout.Token).ConfigureAwait(false)).CurrentText;
        }
        catch (Exception ex) when (ex is FlagsException or OperationCanceledException)
        {
            return $"an unknown revision ({ex.Message})";
        }
    }

    private async Task RecordStepAsync(LedgerStream stream, FlagMutation mutation, string runId, string step, string outcome, DateTimeOffset startedAt, TimeSpan duration, string detail, JObject? extra)
    {
        var details = new JObject
        {
            ["run_id"] = runId,
            ["step"] = step,
            ["started_at"] = startedAt.UtcDateTime.ToString("O"),
            ["duration_ms"] = (long)duration.TotalMilliseconds,
            ["detail"] = migrations.Database.Mask(detail),
        };
        if (extra is not null)
        {
            details.Merge(extra);
        }

        var draft = Event(mutation, stream.RolloutId!, PlannedRollbackEventTypes.Step, outcome, details);

        // Recorded after the step's change was made: spooled rather than lost if the ledger fails now.
        await decisions.RunAsync<PlannedRollbackRun, bool>(
            stream,
            ct => FoldAsync(stream, ct),
            state => Task.FromResult(state.Open && state.RunId == runId && !(outcome == "succeeded" && state.Done.ContainsKey(step))
                ? StreamDecision<bool>.Append(new[] { draft }, _ => Task.FromResult(true))
                : StreamDecision<bool>.Done(false)),
            afterChange: true,
            Busy,
            CancellationToken.None).ConfigureAwait(false);
    }

    private AuditEvent Event(FlagMutation mutation, string streamId, string type, string outcome, JObject details) => new()
    {
        EventType = type,
        UserId = mutation.User,
        FeatureFlag = mutation.Flag,
        Environment = mutation.Environment,
        Reason = mutation.Reason,
        ApprovalTicket = mutation.ApprovalTicket,
        RolloutId = streamId,
        Store = store.Identity,
        Outcome = outcome,
        Details = details.ToString(Newtonsoft.Json.Formatting.None),
    };

    private async Task<(PlannedRollbackRun Run, long ReadAt)> FoldAsync(LedgerStream stream, CancellationToken cancellationToken)
    {
        var head = await audit.Ledger.GetHeadSequenceAsync(cancellationToken).ConfigureAwait(false);
        var events = await audit.Ledger.ReadListAsync(stream.Query, cancellationToken).ConfigureAwait(false);
        return (PlannedRollbackRun.Fold(events.Where(e => e.Sequence <= head)), head);
    }

    private static bool SameRevisions(IReadOnlyList<string> a, IReadOnlyList<string> b)
        => a.OrderBy(x => x, StringComparer.Ordinal).SequenceEqual(b.OrderBy(x => x, StringComparer.Ordinal));

    private static Exception Busy() => new FlagsException(PlannedRollbackErrorIds.LedgerBusy, FlagsErrorKind.ResourceUnavailable, "Other writers kept appending to this planned rollback's stream; nothing was decided. Run the command again.");
}
