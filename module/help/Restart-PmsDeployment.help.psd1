@{
    Synopsis    = 'Restarts every pod of a deployment (kubectl rollout restart) and, with -Wait, waits like kubectl rollout status.'
    Description = @'
Restart-PmsDeployment sets the pod template's kubectl.kubernetes.io/restartedAt annotation, exactly as kubectl rollout
restart does, so Kubernetes replaces the pods one by one and the new ones read the current flag ConfigMap. With -Wait it
then follows the rollout as kubectl rollout status does -- the controller must observe the new generation, every desired
replica must be updated, no old replica left and every updated one available -- showing the progress with
Write-Progress, until it completes, the deployment reports ProgressDeadlineExceeded (for example new pods crash-looping),
or -Timeout passes. The restart is recorded in the audit ledger as deployment_restarted with its outcome (Complete,
ProgressDeadlineExceeded, TimedOut or NotWaited); a failed or timed-out wait is recorded first and then reported as an
error that says what state the deployment was left in. -WhatIf reads the deployment and changes nothing.
'@
    Parameters  = @{
        Wait    = 'Wait for the rollout to finish (kubectl rollout status).'
        Timeout = 'How long -Wait waits (default 10 minutes). The rollout goes on in the cluster after a timeout.'
        WhatIf  = 'Reads the deployment and shows what the restart would do, without restarting it or writing to the ledger.'
        Confirm = 'Asks before changing the deployment.'
        Reason  = 'Why the change is made; recorded with the event in the audit ledger.'
        Ledger  = 'The audit ledger to record in; default the connected one (Connect-FlagLedger) or the default ledger.'
        User    = 'Who is acting, for the ledger; default from the environment (CI actor or the signed-in user).'
        Namespace  = 'The Kubernetes namespace the backend deployment runs in (default pms, as in the playbook).'
        Deployment = 'The Kubernetes Deployment that runs the PMS backend pods (default pms-backend).'
        KubeConfig = 'The kubeconfig file. Default: the first file in KUBECONFIG, then ~/.kube/config, then the in-cluster service account when running in a pod.'
        KubeContext = 'The kubeconfig context to use instead of its current-context; KubeContextNotFound when the kubeconfig has no such context.'
    }
    Outputs     = @{
        'PMS.Flags.Engine.Kubernetes.DeploymentRolloutResult' = 'Action (restart), Namespace, Deployment, RequestedAt, PodsReadyAt, Duration, Outcome, ToRevision and Message.'
    }
    Examples    = @(
        @{
            Title   = 'Restart so pods read a changed ConfigMap, and wait'
            Code    = 'Restart-PmsDeployment -Namespace pms -Deployment pms-backend -Wait -Timeout 00:05:00 -Reason "pick up feature_flags.json"'
            Remarks = 'Shows the rollout''s progress; returns when every new pod is ready, and records deployment_restarted.'
        }
        @{
            Title   = 'Preview a restart'
            Code    = 'Restart-PmsDeployment -Namespace pms -Deployment pms-backend -Reason "pick up feature_flags.json" -WhatIf'
            Remarks = 'Names the deployment that would be restarted; nothing is changed and nothing is recorded.'
        }
    )
    Notes       = @'
Error ids: DeploymentProgressDeadlineExceeded and DeploymentRolloutTimeout (the restart was made and recorded; the
message says which pods serve), KubernetesTimeoutInvalid, and those of Get-PmsDeploymentHealth.
'@
}
