using System.Diagnostics;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Migration status, plans, previews and runs for one database and one alembic project. Every run re-checks the plan
/// against the database just before alembic starts and refuses a downgrade that loses data without consent, whoever
/// calls it, so no path can run a destructive downgrade unattended.
/// </summary>
public sealed class MigrationService
{
    private readonly PostgresDatabase postgres;

    public MigrationService(DatabaseTarget database, string scriptLocation, string alembicExecutable = AlembicRunner.DefaultExecutable)
        : this(database, scriptLocation, new AlembicRunner(alembicExecutable))
    {
    }

    /// <param name="alembic">Where alembic runs; the scripts are always read here, to plan and classify without Python.</param>
    public MigrationService(DatabaseTarget database, string scriptLocation, IAlembicExecutor alembic)
    {
        Database = database;
        postgres = new PostgresDatabase(database);
        Project = AlembicProject.Locate(scriptLocation);
        Graph = RevisionGraph.Load(Project.VersionDirectories);
        Alembic = alembic;
    }

    public DatabaseTarget Database { get; }

    public AlembicProject Project { get; }

    public RevisionGraph Graph { get; }

    public IAlembicExecutor Alembic { get; }

    public async Task<MigrationStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var current = await postgres.ReadCurrentRevisionsAsync(cancellationToken).ConfigureAwait(false);
        var known = current.Where(Graph.Contains).ToArray();
        var applied = Graph.AncestorsOf(known);
        var history = Graph.TopologicalFromHeads();
        return new MigrationStatus
        {
            Database = Database.Name,
            ScriptLocation = Graph.Location,
            Current = current,
            Heads = Graph.Heads,
            Pending = history.Where(r => !applied.Contains(r.Revision)).Reverse().ToArray(),
            History = history,
            UnknownCurrent = current.Where(c => !Graph.Contains(c)).ToArray(),
        };
    }

    public async Task<MigrationPlan> PlanAsync(MigrationAction action, string requested, CancellationToken cancellationToken)
    {
        var current = await postgres.ReadCurrentRevisionsAsync(cancellationToken).ConfigureAwait(false);
        return MigrationPlanner.Plan(Graph, current, action, requested);
    }

    public static void RequireReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new FlagsException("ReasonRequired", FlagsErrorKind.InvalidArgument, "A reason is required for every schema change; it goes into the audit record.");
        }
    }

    /// <summary>Throws DataLossRefused when a downgrade crosses a Destructive or Unknown revision without consent.</summary>
    public static void RefuseDataLoss(MigrationPlan plan, bool allowDataLoss)
    {
        if (plan.DataLoss.Count > 0 && !allowDataLoss)
        {
            var list = string.Join("; ", plan.DataLoss.Select(r => $"{r.Revision} ({r.Classification}: {r.ClassificationReason})"));
            throw new FlagsException(MigrationErrorIds.DataLossRefused, FlagsErrorKind.PermissionDenied, $"Refused: downgrading {MigrationPlan.Describe(plan.From)} to {MigrationPlan.Describe(plan.Target)} runs downgrades that lose data or cannot be judged: {list}. Nothing was changed. Back up the data and pass -AllowDataLoss to proceed.", plan.Requested);
        }
    }

    /// <summary>alembic's offline --sql output for the plan; reads nothing from and writes nothing to the database.</summary>
    public async Task<string> PreviewSqlAsync(MigrationPlan plan, IOperationLog log, CancellationToken cancellationToken)
    {
        var ini = Alembic.UsesLocalIni ? Project.RequireIni() : null;
        await Alembic.EnsureAvailableAsync(log, cancellationToken).ConfigureAwait(false);
        if (plan.From.Count > 1 && plan.Action != MigrationAction.Upgrade)
        {
            return $"-- alembic's offline mode cannot start from several revisions ({MigrationPlan.Describe(plan.From)}); no SQL preview.";
        }

        var target = AlembicTarget(plan);
        var range = plan.From.Count == 1 ? $"{plan.From[0]}:{target}" : target;
        var run = await Alembic.RunAsync(ini, new[] { Verb(plan.Action), range, "--sql" }, Database, log, cancellationToken).ConfigureAwait(false);
        if (!run.Succeeded)
        {
            throw new FlagsException(MigrationErrorIds.AlembicFailed, FlagsErrorKind.InvalidOperation, $"alembic could not produce the SQL preview: {run.ErrorSummary}", plan.Requested);
        }

        return run.StandardOutput;
    }

    /// <summary>Runs the plan with alembic and records it. Audit first: the ledger is checked before alembic starts.</summary>
    public async Task<MigrationResult> RunAsync(MigrationPlan plan, MigrationRequest request, AuditTrail trail, IOperationLog log, CancellationToken cancellationToken)
    {
        RequireReason(request.Reason);
        RefuseDataLoss(plan, request.AllowDataLoss);
        var ini = Alembic.UsesLocalIni ? Project.RequireIni() : null;
        await Alembic.EnsureAvailableAsync(log, cancellationToken).ConfigureAwait(false);
        var audit = new MigrationAudit(trail, Alembic.Via);
        await audit.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);

        var current = await postgres.ReadCurrentRevisionsAsync(cancellationToken).ConfigureAwait(false);
        if (!current.OrderBy(c => c, StringComparer.Ordinal).SequenceEqual(plan.From.OrderBy(c => c, StringComparer.Ordinal)))
        {
            throw new FlagsException(MigrationErrorIds.CurrentChanged, FlagsErrorKind.InvalidOperation, $"{Database.Name} moved from {MigrationPlan.Describe(plan.From)} to {MigrationPlan.Describe(current)} since the plan was made; nothing was run. Run the command again.", plan.Requested);
        }

        var startedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        AlembicRun run;
        try
        {
            run = await Alembic.RunAsync(ini, new[] { Verb(plan.Action), AlembicTarget(plan) }, Database, log, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            var where = await ReadAfterAsync().ConfigureAwait(false);
            await audit.RecordAsync(plan, request, Database, Graph.Location, where, null, "interrupted", Alembic.UsesLocalIni ? "stopped by the user; alembic was killed" : "stopped by the user; the exec connection was closed", startedAt).ConfigureAwait(false);
            throw;
        }
        catch (FlagsException ex) when (ex.ErrorId == MigrationErrorIds.ExecConnectionLost)
        {
            // The command may have run: the record says so, with the revision the database shows now.
            var where = await ReadAfterAsync().ConfigureAwait(false);
            var lost = await audit.RecordAsync(plan, request, Database, Graph.Location, where, null, "unknown", ex.Message, startedAt).ConfigureAwait(false);
            throw new FlagsException(ex.ErrorId, ex.Kind, $"{ex.Message} {Database.Name} shows {MigrationPlan.Describe(where)} now (was {MigrationPlan.Describe(plan.From)}); recorded as unknown ({(lost.Spooled ? "spooled" : "#" + lost.Event.Sequence)}). Run Get-PmsMigration again in a moment before retrying.", plan.Requested, ex)
            {
                ChangeWasMade = !where.OrderBy(c => c, StringComparer.Ordinal).SequenceEqual(plan.From.OrderBy(c => c, StringComparer.Ordinal)),
            };
        }

        var after = await ReadAfterAsync().ConfigureAwait(false);
        var outcome = run.Succeeded ? "succeeded" : "failed";
        var record = await audit.RecordAsync(plan, request, Database, Graph.Location, after, run, outcome, run.Succeeded ? null : run.ErrorSummary, startedAt).ConfigureAwait(false);
        if (!run.Succeeded)
        {
            var changed = !after.OrderBy(c => c, StringComparer.Ordinal).SequenceEqual(plan.From.OrderBy(c => c, StringComparer.Ordinal));
            throw new FlagsException(MigrationErrorIds.AlembicFailed, FlagsErrorKind.InvalidOperation, $"alembic {Verb(plan.Action)} {AlembicTarget(plan)} failed (exit {run.ExitCode}): {run.ErrorSummary}. The database is at {MigrationPlan.Describe(after)} ({(changed ? "changed from" : "unchanged from")} {MigrationPlan.Describe(plan.From)}); the failure is recorded ({(record.Spooled ? "spooled" : "#" + record.Event.Sequence)}).", plan.Requested)
            {
                ChangeWasMade = changed,
            };
        }

        return new MigrationResult
        {
            Action = plan.Action,
            Requested = plan.Requested,
            Database = Database.Name,
            From = plan.From,
            To = after,
            Target = plan.Target,
            Steps = run.Steps,
            Crossed = plan.Crossed,
            Succeeded = true,
            Via = Alembic.UsesLocalIni ? "Local" : Alembic.Via,
            StartedAt = startedAt,
            Duration = watch.Elapsed,
            AuditSequence = record.Spooled ? null : record.Event.Sequence,
            AuditSpooled = record.Spooled,
        };

        async Task<IReadOnlyList<string>> ReadAfterAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                return await postgres.ReadCurrentRevisionsAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FlagsException or OperationCanceledException)
            {
                log.Warning($"Could not read {Database.Name}'s revision after alembic ran: {ex.Message}");
                return new[] { "<unknown>" };
            }
        }
    }

    private static string Verb(MigrationAction action) => action.ToString().ToLowerInvariant();

    private string AlembicTarget(MigrationPlan plan) => plan.Target.Count switch
    {
        0 => RevisionGraph.Base,
        1 => plan.Target[0],
        _ when plan.Target.OrderBy(t => t, StringComparer.Ordinal).SequenceEqual(Graph.Heads) => "heads",
        _ => string.Join(" ", plan.Target),
    };
}
