using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>
/// alembic upgrade / downgrade / stamp, judged before it runs. Downgrade and stamp behave as ConfirmImpact High (they
/// ask unless -Force or -Confirm:$false); upgrade is Medium, so the attribute says Medium.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PmsMigration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = UpgradeSet)]
[OutputType(typeof(MigrationResult))]
public sealed class InvokePmsMigrationCommand : DatabaseCommandBase
{
    private const string UpgradeSet = "Upgrade";
    private const string DowngradeSet = "Downgrade";
    private const string StampSet = "Stamp";

    [Parameter(Mandatory = true, ParameterSetName = UpgradeSet)]
    [ValidateNotNullOrEmpty]
    public string Upgrade { get; set; } = "head";

    [Parameter(Mandatory = true, ParameterSetName = DowngradeSet)]
    [ValidateNotNullOrEmpty]
    public string Downgrade { get; set; } = "-1";

    [Parameter(Mandatory = true, ParameterSetName = StampSet)]
    [ValidateNotNullOrEmpty]
    public string Stamp { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string ScriptLocation { get; set; } = "";

    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Environment { get; set; }

    [Parameter]
    public string? User { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>Where alembic runs: on this machine, or inside a Ready pod of -Deployment through the Kubernetes exec API.</summary>
    [Parameter]
    [ValidateSet("Local", "Pod")]
    public string Via { get; set; } = "Local";

    /// <summary>-Via Local: the alembic executable here. -Via Pod: the command in the container (default "alembic", found on its PATH).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AlembicPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = "pms";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Deployment { get; set; } = "pms-backend";

    /// <summary>-Via Pod: the container to exec in (default: the pod's first).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Container { get; set; }

    /// <summary>-Via Pod: alembic.ini's path inside the container (default: the one in the container's working directory).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PodAlembicConfig { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeContext { get; set; }

    [Parameter]
    public SwitchParameter AllowDataLoss { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        var (action, requested) = ParameterSetName switch
        {
            DowngradeSet => (MigrationAction.Downgrade, Downgrade),
            StampSet => (MigrationAction.Stamp, Stamp),
            _ => (MigrationAction.Upgrade, Upgrade),
        };
        MigrationService.RequireReason(Reason);
        var service = new MigrationService(ResolveDatabase(), ResolvePath(ScriptLocation), Executor());
        if (service.Alembic.UsesLocalIni)
        {
            service.Project.RequireIni();
        }

        Run(async (log, ct) =>
        {
            await service.Alembic.EnsureAvailableAsync(log.Engine, ct).ConfigureAwait(false);
            return true;
        });
        var plan = Run((_, ct) => service.PlanAsync(action, requested, ct));
        foreach (var revision in plan.Crossed)
        {
            WriteVerbose(action == MigrationAction.Downgrade
                ? $"Will downgrade {revision.Revision} ({revision.Classification}: {revision.ClassificationReason}) {revision.Message}"
                : $"Will upgrade {revision.Revision}: {revision.Message}");
        }

        var target = service.Database.Name;
        var description = $"{(Via == "Pod" ? $"in {service.Alembic.Via}: " : "")}alembic {action.ToString().ToLowerInvariant()} {MigrationPlan.Describe(plan.From)} -> {MigrationPlan.Describe(plan.Target)} ('{requested}', {plan.Crossed.Count} revision(s))";
        if (WhatIfRequested)
        {
            var sql = Run((log, ct) => service.PreviewSqlAsync(plan, log.Engine, ct));
            WriteInformation(new HostInformationMessage { Message = sql.TrimEnd() }, new[] { "PSHOST" });
            if (plan.DataLoss.Count > 0 && !AllowDataLoss)
            {
                WriteWarning($"Without -AllowDataLoss this downgrade would be refused: {string.Join(", ", plan.DataLoss.Select(r => $"{r.Revision} ({r.Classification})"))}.");
            }

            ShouldProcess(target, description);
            return;
        }

        MigrationService.RefuseDataLoss(plan, AllowDataLoss);
        // The protected set is the connected store's (Connect-FlagStore -ProtectedEnvironment), else the stores' default.
        var ledger = ResolveLedgerFor(Ledger, LedgerUse.Change, Environment, FlagSession.Current.Store?.ProtectedEnvironments ?? LedgerPolicy.DefaultProtectedEnvironments);
        if (!Confirmed(action, target, description))
        {
            return;
        }

        var request = new MigrationRequest
        {
            Reason = Reason,
            User = UserIdentity.Resolve(User),
            Environment = string.IsNullOrWhiteSpace(Environment) ? null : Environment,
            ApprovalTicket = string.IsNullOrWhiteSpace(ApprovalTicket) ? null : ApprovalTicket,
            AllowDataLoss = AllowDataLoss,
        };
        var result = Run((log, ct) => service.RunAsync(plan, request, AuditTrailFor(ledger, log.Engine), log.Engine, ct));
        WriteObject(result);
    }

    /// <summary>Only -Via Pod touches the Kubernetes types, so KubernetesClient loads for it alone.</summary>
    private IAlembicExecutor Executor()
    {
        if (Via != "Pod")
        {
            return new AlembicRunner(ResolvePath(AlembicPath ?? AlembicRunner.DefaultExecutable));
        }

        return new PodAlembicRunner(KubernetesTargetFor(KubeConfig, KubeContext, Namespace, Deployment), Container, PodAlembicConfig, AlembicPath ?? PodAlembicRunner.DefaultExecutable);
    }

    /// <summary>Upgrade asks as Medium impact; downgrade and stamp ask as High: unless -Force or -Confirm:$false, always.</summary>
    private bool Confirmed(MigrationAction action, string target, string description)
    {
        if (Force)
        {
            return true;
        }

        if (action == MigrationAction.Upgrade || MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            return ShouldProcess(target, description);
        }

        // ShouldProcess already asked when $ConfirmPreference is Medium or lower; at the default High only this asks.
        var preference = SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact p ? p : ConfirmImpact.High;
        return ShouldProcess(target, description) && (preference != ConfirmImpact.High || ShouldContinue($"{description} on {target}?", "Confirm schema change"));
    }
}
