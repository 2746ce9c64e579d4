using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "PmsDeploymentHealth")]
[OutputType(typeof(DeploymentHealth))]
public sealed class GetPmsDeploymentHealthCommand : KubernetesCmdletBase
{
    [Parameter]
    public Uri? HealthUrl { get; set; }

    /// <summary>The flag ConfigMap, to tell which pods started before its last change.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigMap { get; set; } = "feature-flags-config";

    protected override void ProcessFlagRecord()
    {
        var health = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            return await operations.HealthAsync(HealthUrl, ConfigMap, null, ct).ConfigureAwait(false);
        });
        if (!health.MetricsAvailable)
        {
            WriteVerbose("The cluster serves no metrics API (metrics.k8s.io): CPU and memory are left empty.");
        }

        foreach (var warning in health.Events.Where(e => e.Type == "Warning").GroupBy(e => e.Reason))
        {
            WriteVerbose($"{warning.Count()} warning event(s) {warning.Key}: {warning.Last().Message}");
        }

        WriteObject(health);
    }
}
