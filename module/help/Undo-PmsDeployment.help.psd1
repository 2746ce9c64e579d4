@{
    Synopsis    = 'Rolls a deployment back to its previous (or a given) revision, as kubectl rollout undo.'
    Description = @'
Undo-PmsDeployment is the playbook's make rollback-production: like kubectl rollout undo, it takes the pod template from
the ReplicaSet of the previous revision (the highest revision below the current one) or of -ToRevision, without its
pod-template-hash label, and writes it to the deployment with a JSON Patch; Kubernetes then rolls the pods back and makes
that ReplicaSet the newest revision. The chosen revision is decided before anything changes (DeploymentRevisionNotFound
when there is none), and shown by -WhatIf. With -Wait it follows the rollout like Restart-PmsDeployment -Wait. The undo
is recorded in the audit ledger as deployment_undone with from and to revisions and its outcome.
'@
    Parameters  = @{
        ToRevision = 'The revision to return to; 0 (the default) means the previous one.'
        Wait       = 'Wait for the rollback''s rollout to finish (kubectl rollout status).'
        Timeout    = 'How long -Wait waits (default 10 minutes).'
        WhatIf  = 'Names the revision and ReplicaSet the undo would restore, without changing the deployment or writing to the ledger.'
        Confirm = 'Asks before changing the deployment.'
        Reason     = 'Why the change is made; recorded with the event in the audit ledger.'
        Ledger     = 'The audit ledger to record in; default the connected one or the default ledger.'
        User       = 'Who is acting, for the ledger; default from the environment.'
        Force      = 'Do not ask for confirmation.'
        Namespace  = 'The Kubernetes namespace the backend deployment runs in (default pms, as in the playbook).'
        Deployment = 'The Kubernetes Deployment that runs the PMS backend pods (default pms-backend).'
        KubeConfig = 'The kubeconfig file. Default: the first file in KUBECONFIG, then ~/.kube/config, then the in-cluster service account when running in a pod.'
        KubeContext = 'The kubeconfig context to use instead of its current-context; KubeContextNotFound when the kubeconfig has no such context.'
    }
    Outputs     = @{
        'PMS.Flags.Engine.Kubernetes.DeploymentRolloutResult' = 'Action (undo), FromRevision, ToRevision, ReplicaSet (whose template was restored), RequestedAt, PodsReadyAt, Outcome and Message.'
    }
    Examples    = @(
        @{
            Title   = 'Roll back a bad release'
            Code    = 'Undo-PmsDeployment -Namespace pms -Deployment pms-backend -Wait -Force -Reason "INC-4211 error spike after release"'
            Remarks = 'Restores the previous revision''s template and waits until its pods are ready.'
        }
        @{
            Title   = 'See which revision an undo would restore'
            Code    = 'Undo-PmsDeployment -ToRevision 3 -WhatIf'
            Remarks = 'Names the revision and ReplicaSet; changes nothing.'
        }
    )
    Notes       = @'
Error ids: DeploymentRevisionNotFound, DeploymentProgressDeadlineExceeded, DeploymentRolloutTimeout,
KubernetesTimeoutInvalid, and those of Get-PmsDeploymentHealth.
'@
}
