using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Restart, "PmsDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentRolloutResult))]
public sealed class RestartPmsDeploymentCommand : KubernetesCmdletBase
{
    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    [Parameter]
    public string? User { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new FlagsException(KubernetesErrorIds.TimeoutInvalid, FlagsErrorKind.InvalidArgument, $"-Timeout must be positive; got {Timeout}.", Timeout);
        }

        var target = $"deployment {Namespace}/{Deployment}";
        if (WhatIfRequested)
        {
            var snapshot = Run(async (log, ct) =>
            {
                using var operations = ConnectDeployment(log);
                return await operations.ReadAsync(ct).ConfigureAwait(false);
            });
            ShouldProcess(target, $"Restart all {snapshot.SpecReplicas} pods (revision {snapshot.Revision} → {snapshot.Revision + 1}){(Wait ? " and wait for the rollout" : "")}");
            return;
        }

        if (!ShouldProcess(target, $"Restart all pods{(Wait ? " and wait for the rollout" : "")}"))
        {
            return;
        }

        var ledger = ResolveLedger(Ledger);
        var user = UserIdentity.Resolve(User);
        var result = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            var changes = new DeploymentChanges(operations, AuditTrailFor(ledger, log.Engine));
            return await changes.RestartAsync(Wait, Timeout, user, Reason, p => ReportProgress(log, $"Restarting {target}", p), ct).ConfigureAwait(false);
        });
        WriteObject(result);
    }
}
