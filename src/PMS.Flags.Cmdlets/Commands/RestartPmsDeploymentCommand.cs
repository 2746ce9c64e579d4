using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Restart, "PmsDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentRolloutResult))]
public sealed class RestartPmsDeploymentCommand : DeploymentChangeCommandBase
{
    protected override void ProcessFlagRecord()
    {
        RequirePositiveTimeout();
        if (WhatIfRequested)
        {
            var snapshot = Run(async (log, ct) =>
            {
                using var operations = ConnectDeployment(log);
                return await operations.ReadAsync(ct).ConfigureAwait(false);
            });
            ShouldProcess(DeploymentTarget, $"Restart all {snapshot.SpecReplicas} pods (revision {snapshot.Revision} → {snapshot.Revision + 1}){WaitSuffix}");
            return;
        }

        if (!ShouldProcess(DeploymentTarget, $"Restart all pods{WaitSuffix}"))
        {
            return;
        }

        WriteObject(RunChange($"Restarting {DeploymentTarget}", (changes, user, progress, ct) => changes.RestartAsync(Wait, Timeout, user, Reason, progress, ct)));
    }
}
