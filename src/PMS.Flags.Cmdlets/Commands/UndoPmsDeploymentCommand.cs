using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Undo, "PmsDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DeploymentRolloutResult))]
public sealed class UndoPmsDeploymentCommand : KubernetesCmdletBase
{
    /// <summary>0 (the default) means the previous revision, as kubectl rollout undo.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long ToRevision { get; set; }

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

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new FlagsException(KubernetesErrorIds.TimeoutInvalid, FlagsErrorKind.InvalidArgument, $"-Timeout must be positive; got {Timeout}.", Timeout);
        }

        var target = $"deployment {Namespace}/{Deployment}";
        // The choice of revision is made (and refused, with its ErrorId) before anything is asked or changed.
        var plan = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            return await operations.UndoAsync(ToRevision, dryRun: true, ct).ConfigureAwait(false);
        });
        var action = $"Roll back from revision {plan.FromRevision} to revision {plan.ToRevision} (template of ReplicaSet {plan.ReplicaSet}){(Wait ? " and wait for the rollout" : "")}";
        if (WhatIfRequested)
        {
            ShouldProcess(target, action);
            return;
        }

        if (!Force && !ShouldProcess(target, action))
        {
            return;
        }

        var ledger = ResolveLedger(Ledger);
        var user = UserIdentity.Resolve(User);
        var result = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            var changes = new DeploymentChanges(operations, AuditTrailFor(ledger, log.Engine));
            return await changes.UndoAsync(plan.ToRevision ?? ToRevision, Wait, Timeout, user, Reason, p => ReportProgress(log, $"Rolling back {target}", p), ct).ConfigureAwait(false);
        });
        WriteObject(result);
    }
}
