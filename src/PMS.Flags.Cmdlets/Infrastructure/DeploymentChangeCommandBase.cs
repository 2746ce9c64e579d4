using System.Management.Automation;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// What the deployment changes (restart, undo) share: -Wait/-Timeout like kubectl rollout status, the audit parameters,
/// and one way to run the change with its ledger event and progress.
/// </summary>
public abstract class DeploymentChangeCommandBase : KubernetesCmdletBase
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

    private protected string DeploymentTarget => $"deployment {Namespace}/{Deployment}";

    private protected string WaitSuffix => Wait ? " and wait for the rollout" : "";

    private protected void RequirePositiveTimeout()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new FlagsException(KubernetesErrorIds.TimeoutInvalid, FlagsErrorKind.InvalidArgument, $"-Timeout must be positive; got {Timeout}.", Timeout);
        }
    }

    /// <summary>Runs one change against the deployment, recorded in the ledger, with Write-Progress under <paramref name="activity"/>.</summary>
    private protected DeploymentRolloutResult RunChange(string activity, Func<DeploymentChanges, string, Action<RolloutProgress>, CancellationToken, Task<DeploymentRolloutResult>> change)
    {
        var ledger = ResolveLedger(Ledger);
        var user = UserIdentity.Resolve(User);
        return Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            var changes = new DeploymentChanges(operations, AuditTrailFor(ledger, log.Engine));
            return await change(changes, user, p => ReportProgress(log, activity, p), ct).ConfigureAwait(false);
        });
    }
}
