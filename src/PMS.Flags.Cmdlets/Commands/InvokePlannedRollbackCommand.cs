using System.Management.Automation;
using System.Text;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Kubernetes;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.PlannedRollbacks;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>
/// The playbook's planned rollback with a database migration, as one resumable, audited sequence (see
/// <see cref="PlannedRollback"/>). The cmdlet resolves the store, database and alembic host, checks the paperwork,
/// asks once, and hands the optional deployment steps to the engine as delegates so Kubernetes loads only for them.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PlannedRollback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PlannedRollbackResult))]
public sealed class InvokePlannedRollbackCommand : FlagChangeCommandBase
{
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string ScriptLocation { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    [Parameter]
    public TimeSpan StabilizeFor { get; set; } = TimeSpan.FromMinutes(5);

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string MigrationTarget { get; set; } = "-1";

    [Parameter]
    public SwitchParameter AllowDataLoss { get; set; }

    [Parameter]
    [ValidateSet("Local", "Pod")]
    public string Via { get; set; } = "Local";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AlembicPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = "pms";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Deployment { get; set; } = "pms-backend";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Container { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeContext { get; set; }

    [Parameter]
    public SwitchParameter UndoDeployment { get; set; }

    [Parameter]
    public TimeSpan DeploymentTimeout { get; set; } = TimeSpan.FromMinutes(10);

    [Parameter]
    [ValidateNotNull]
    public Uri? HealthUri { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var mutation = BuildMutation(store, FlagChangeKind.TurnOff);
        FlagOperations.Validate(store, mutation);

        // A planned rollback changes the schema too: unlike an emergency flag-off, it waits for its paperwork.
        if (string.IsNullOrWhiteSpace(mutation.ApprovalTicket) && FlagOperations.IsProtected(store, mutation.Environment))
        {
            throw new FlagsException("ApprovalTicketRequired", FlagsErrorKind.PermissionDenied, $"A planned rollback in '{mutation.Environment}' requires -ApprovalTicket.", mutation.Flag);
        }

        if (StabilizeFor < TimeSpan.Zero)
        {
            throw new FlagsException(PlannedRollbackErrorIds.StabilizeInvalid, FlagsErrorKind.InvalidArgument, $"-StabilizeFor must not be negative (was {StabilizeFor}).", StabilizeFor);
        }

        var database = DatabaseTarget.Parse(string.IsNullOrEmpty(ConnectionString) ? System.Environment.GetEnvironmentVariable("DATABASE_URL") : ConnectionString);
        var migrations = new MigrationService(database, ResolvePath(ScriptLocation), Executor());
        if (migrations.Alembic.UsesLocalIni)
        {
            migrations.Project.RequireIni();
        }

        var ledger = ResolveLedger(Ledger);
        var target = $"{mutation.Flag} in {mutation.Environment} ({store.Name}) and {database.Name}";
        if (WhatIfRequested)
        {
            var plan = Run((log, ct) => PlanTextAsync(store, ledger, migrations, mutation, log, ct));
            WriteInformation(new HostInformationMessage { Message = plan.Text }, new[] { "PSHOST" });
            if (plan.Refused is not null)
            {
                WriteWarning(plan.Refused);
            }

            ShouldProcess(target, $"Planned rollback: flag off, stabilize {StabilizeFor}, alembic downgrade to '{MigrationTarget}', verify{(UndoDeployment ? ", undo the deployment" : "")}{(HealthUri is not null || UndoDeployment ? ", health check" : "")}");
            return;
        }

        if (!ShouldProcessUnlessForced(Force, target, $"Planned rollback: switch the flag off, wait {StabilizeFor}, alembic downgrade to '{MigrationTarget}'{(UndoDeployment ? ", undo the deployment" : "")}"))
        {
            return;
        }

        var result = Run((log, ct) =>
        {
            var audit = AuditTrailFor(ledger, log.Engine);
            var request = new PlannedRollbackRequest
            {
                FlagOff = mutation,
                StabilizeFor = StabilizeFor,
                MigrationTarget = MigrationTarget,
                AllowDataLoss = AllowDataLoss,
                UndoDeployment = UndoDeployment ? UndoStep(audit, mutation, log) : null,
                UndoDeploymentDescription = UndoDeployment ? $"Undo-PmsDeployment {Namespace}/{Deployment}" : null,
                HealthCheck = HealthUri is not null || UndoDeployment ? HealthStep(log) : null,
                HealthCheckDescription = HealthUri is not null || UndoDeployment ? HealthDescription : null,
                Progress = (message, percent) => log.Post(() => WriteProgress(new ProgressRecord(1, $"Planned rollback of {mutation.Flag}: stabilizing", message)
                {
                    PercentComplete = percent,
                    RecordType = percent >= 100 ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                })),
            };
            return new PlannedRollback(store, audit, migrations).RunAsync(request, ct);
        });
        WriteObject(result);
    }

    private string HealthDescription => string.Join(" and ", new[] { UndoDeployment ? $"deployment {Namespace}/{Deployment} healthy" : null, HealthUri is null ? null : $"GET {HealthUri.GetLeftPart(UriPartial.Path)} answers 2xx" }.Where(s => s is not null));

    private KubernetesTarget KubeTarget => KubernetesTargetFor(KubeConfig, KubeContext, Namespace, Deployment);

    private IAlembicExecutor Executor()
        => Via == "Pod"
            ? new PodAlembicRunner(KubeTarget, Container, null, AlembicPath ?? PodAlembicRunner.DefaultExecutable)
            : new AlembicRunner(ResolvePath(AlembicPath ?? AlembicRunner.DefaultExecutable));

    private Func<CancellationToken, Task<string>> UndoStep(AuditTrail audit, FlagMutation mutation, PipelineLog log) => async ct =>
    {
        using var operations = DeploymentOperations.Connect(KubeTarget);
        var plan = await operations.UndoAsync(0, dryRun: true, ct).ConfigureAwait(false);
        var result = await new DeploymentChanges(operations, audit).UndoAsync(plan.ToRevision ?? 0, true, DeploymentTimeout, mutation.User, mutation.Reason, null, ct).ConfigureAwait(false);
        return $"{Namespace}/{Deployment} rolled back from revision {result.FromRevision} to {result.ToRevision}: {result.Message}";
    };

    private Func<CancellationToken, Task<string>> HealthStep(PipelineLog log) => async ct =>
    {
        var found = new List<string>();
        if (UndoDeployment)
        {
            using var operations = DeploymentOperations.Connect(KubeTarget);
            var health = await operations.HealthAsync(null, null, null, ct).ConfigureAwait(false);
            if (!health.Healthy)
            {
                throw new FlagsException(PlannedRollbackErrorIds.Unhealthy, FlagsErrorKind.InvalidOperation, $"Deployment {health}.");
            }

            found.Add(health.ToString());
        }

        if (HealthUri is { } uri)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync(uri, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                throw new FlagsException(PlannedRollbackErrorIds.Unhealthy, FlagsErrorKind.InvalidOperation, $"{uri.GetLeftPart(UriPartial.Path)} cannot be reached: {ex.Message}");
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw new FlagsException(PlannedRollbackErrorIds.Unhealthy, FlagsErrorKind.InvalidOperation, $"{uri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                }

                found.Add($"{uri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode}");
            }
        }

        return string.Join("; ", found);
    };

    /// <summary>-WhatIf: every step, the revisions the downgrade crosses with their classification, and what a resumed run would skip.</summary>
    private async Task<(string Text, string? Refused)> PlanTextAsync(IFlagStore store, ILedger ledger, MigrationService migrations, FlagMutation mutation, PipelineLog log, CancellationToken ct)
    {
        var engine = new PlannedRollback(store, AuditTrailFor(ledger, log.Engine), migrations);
        var done = await engine.UnfinishedStepsDoneAsync(mutation.Flag, mutation.Environment, ct).ConfigureAwait(false);
        var preview = await new FlagOperations(store, AuditTrailFor(ledger, log.Engine)).PreviewAsync(mutation, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        text.AppendLine($"Planned rollback {PlannedRollback.StreamIdFor(mutation.Flag, mutation.Environment)}{(done.Count > 0 ? $" (resumes an unfinished run; done: {string.Join(", ", done)})" : "")}:");
        string? refused = null;
        text.AppendLine($"  1 FlagOff         switch '{mutation.Flag}' off in {mutation.Environment} ({store.Name}; now {(preview.Previous?.On == true ? "on" : "off")})");
        text.AppendLine($"  2 Stabilize       wait {StabilizeFor} after the flag went off (Write-Progress)");
        if (done.Count > 0)
        {
            text.AppendLine($"  3 Downgrade       alembic downgrade to the target recorded when the run started ({migrations.Alembic.Via})");
        }
        else
        {
            var plan = await engine.PlanDowngradeAsync(MigrationTarget, ct).ConfigureAwait(false);
            text.AppendLine($"  3 Downgrade       alembic downgrade {MigrationPlan.Describe(plan.From)} -> {MigrationPlan.Describe(plan.Target)} ('{MigrationTarget}', {migrations.Alembic.Via}):");
            foreach (var revision in plan.Crossed)
            {
                text.AppendLine($"                      {revision.Revision} {revision.Classification}: {revision.ClassificationReason} ({revision.Message})");
            }

            text.AppendLine($"  4 VerifyRevision  the database is at {MigrationPlan.Describe(plan.Target)}");
            if (plan.DataLoss.Count > 0 && !AllowDataLoss)
            {
                refused = $"Without -AllowDataLoss this planned rollback would be refused before the flag is touched: {string.Join(", ", plan.DataLoss.Select(r => $"{r.Revision} ({r.Classification})"))}.";
            }
        }

        text.AppendLine($"  5 UndoDeployment  {(UndoDeployment ? $"Undo-PmsDeployment {Namespace}/{Deployment} to the previous revision and wait" : "skipped (no -UndoDeployment)")}");
        text.Append($"  6 HealthCheck     {(HealthUri is not null || UndoDeployment ? HealthDescription : "skipped (no -HealthUri or -UndoDeployment)")}");
        return (text.ToString(), refused);
    }
}
