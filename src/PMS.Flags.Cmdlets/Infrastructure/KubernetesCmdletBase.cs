using System.Management.Automation;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// The parameters every deployment cmdlet shares (-Namespace, -Deployment, -KubeConfig, -KubeContext) and the connection
/// they make. Only PMS.Flags types appear here: KubernetesClient loads when the engine's gateway is first used, which
/// only these cmdlets (and the ConfigMap store) do.
/// </summary>
public abstract class KubernetesCmdletBase : FlagCmdletBase
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = "pms";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Deployment { get; set; } = "pms-backend";

    /// <summary>Default: KUBECONFIG, then ~/.kube/config, then the pod's service account.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeContext { get; set; }

    private protected KubernetesTarget Target => KubernetesTargetFor(KubeConfig, KubeContext, Namespace, Deployment);

    /// <summary>Call inside Run: the connection's narration goes through the pipeline log, never Write-* from a worker thread.</summary>
    private protected DeploymentOperations ConnectDeployment(PipelineLog log)
    {
        log.Engine.Verbose($"Connecting to deployment {Target}{(KubeConfig is null ? " (default kubeconfig resolution)" : $" with kubeconfig '{Target.KubeConfigPath}'")}.");
        return DeploymentOperations.Connect(Target);
    }

    /// <summary>Write-Progress for a rollout wait: kubectl's message, replicas updated and available.</summary>
    private protected void ReportProgress(PipelineLog log, string activity, RolloutProgress progress)
        => log.Post(() => WriteProgress(new ProgressRecord(1, activity, progress.Message)
        {
            PercentComplete = progress.PercentComplete,
            RecordType = progress.Done || progress.Failed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        }));
}
