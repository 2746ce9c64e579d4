using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Undo, "PmsDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DeploymentRolloutResult))]
public sealed class UndoPmsDeploymentCommand : DeploymentChangeCommandBase
{
    /// <summary>0 (the default) means the previous revision, as kubectl rollout undo.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long ToRevision { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        RequirePositiveTimeout();

        // The choice of revision is made (and refused, with its ErrorId) before anything is asked or changed.
        var plan = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            return await operations.UndoAsync(ToRevision, dryRun: true, ct).ConfigureAwait(false);
        });
        var action = $"Roll back from revision {plan.FromRevision} to revision {plan.ToRevision} (template of ReplicaSet {plan.ReplicaSet}){WaitSuffix}";
        if (WhatIfRequested)
        {
            ShouldProcess(DeploymentTarget, action);
            return;
        }

        if (!ShouldProcessUnlessForced(Force, DeploymentTarget, action))
        {
            return;
        }

        WriteObject(RunChange($"Rolling back {DeploymentTarget}", (changes, user, progress, ct) => changes.UndoAsync(plan.ToRevision ?? ToRevision, Wait, Timeout, user, Reason, progress, ct)));
    }
}
