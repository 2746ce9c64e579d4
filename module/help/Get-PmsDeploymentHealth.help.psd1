@{
    Synopsis    = 'Shows a deployment''s rollout state, its pods, their recent events and resource use, and the health endpoint, in one object.'
    Description = @'
Get-PmsDeploymentHealth gathers what the playbook's health checks look at with several kubectl commands: the deployment's
conditions and replica counts (kubectl get deployment, kubectl rollout status), each pod with its phase, readiness,
restarts, age, node and whether it started before or after the flag ConfigMap last changed (pods that started before it
still serve the old flag values), the recent Kubernetes events of the deployment, its ReplicaSets and pods
(CrashLoopBackOff, OOMKilled, failed probes: what kubectl describe pod lists), CPU and memory per pod from the metrics
API when the cluster serves it (kubectl top pods), and, with -HealthUrl, the health endpoint's status and latency.
It changes nothing. Healthy is true when the rollout is complete, every pod is ready and the endpoint answered 2xx.
'@
    Parameters  = @{
        HealthUrl  = 'A health endpoint to GET (for example https://api.pms.example.com/health); its status code and latency are reported in Endpoint.'
        ConfigMap  = 'The flag ConfigMap whose last change the pods'' start times are compared with (default feature-flags-config).'
        Namespace  = 'The Kubernetes namespace the backend deployment runs in (default pms, as in the playbook).'
        Deployment = 'The Kubernetes Deployment that runs the PMS backend pods (default pms-backend).'
        KubeConfig = 'The kubeconfig file. Default: the first file in KUBECONFIG, then ~/.kube/config, then the in-cluster service account when running in a pod.'
        KubeContext = 'The kubeconfig context to use instead of its current-context; KubeContextNotFound when the kubeconfig has no such context.'
    }
    Outputs     = @{
        'PMS.Flags.Engine.Kubernetes.DeploymentHealth' = 'Namespace, Deployment, Healthy, Status (generation, observedGeneration, replica counts, Progressing reason), Rollout (kubectl rollout status message), Conditions, Pods (PodHealth: Name, Phase, Ready, Restarts, Age, Node, StartedAt, StartedAfterConfigChange, Reason, CpuMillicores, MemoryBytes), Events, Endpoint, ConfigMapChangedAt, MetricsAvailable, StalePods.'
    }
    Examples    = @(
        @{
            Title   = 'The playbook''s post-deployment check'
            Code    = @'
$health = Get-PmsDeploymentHealth -Namespace pms -Deployment pms-backend -HealthUrl https://api.pms.example.com/health
$health
$health.Pods | Format-Table
$health.Events | Where-Object Type -EQ Warning
'@
            Remarks = 'One line for the deployment, a table of pods (phase, readiness, restarts, CPU, memory), and the warning events (BackOff, OOMKilled, Unhealthy).'
        }
        @{
            Title   = 'Check another cluster context without changing the current one'
            Code    = 'Get-PmsDeploymentHealth -Namespace pms -Deployment pms-backend -KubeContext staging-cluster | Select-Object Deployment, Healthy, ReadyReplicas, DesiredReplicas'
            Remarks = 'Reads the deployment through the named kubeconfig context only; the kubeconfig''s current context is left as it is.'
        }
    )
    Notes       = @'
Error ids: KubeConfigNotFound, KubeConfigInvalid, KubeContextNotFound, KubernetesApiUnreachable, KubernetesUnauthorized,
KubernetesForbidden, KubernetesNamespaceNotFound, DeploymentNotFound, ConfigMapNotFound, KubernetesNameInvalid.
'@
}
