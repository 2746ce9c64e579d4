@{
    Synopsis    = 'Answers "why is my flag not taking effect?": store state versus what the pods report versus which pods predate the change.'
    Description = @'
Test-FlagPropagation runs the playbook's "flag not taking effect" procedure as one verdict. It reads the flag from the
ConfigMap (the store), asks the application's /api/v1/feature-flags/status through -StatusUrl often enough to reach
every pod behind the Service, and compares both with which pods started before the ConfigMap last changed.
Verdict is one of: Propagated (every pod reports the store's value), PodsStale (pods that started before the change still
serve the old value: restart the deployment), RolloutInProgress (wait), AppDisagrees (fresh pods report another value or
lack the flag: the application reads another key or caches), FlagNotInStore, StatusUnavailable. Recommendation says the
fix. It changes nothing.
'@
    Parameters  = @{
        Flag        = 'The feature flag key to trace, as written in the ConfigMap''s JSON document and reported by the pods, for example new_billing_engine.'
        Environment = 'The environment (document section), for example production.'
        StatusUrl   = 'The application''s status endpoint, for example https://api.pms.example.com/api/v1/feature-flags/status.'
        Token       = 'The bearer token the status endpoint requires; never written to output, verbose or errors.'
        ConfigMap   = 'The flag ConfigMap (default feature-flags-config).'
        Key         = 'The ConfigMap key holding the JSON document (default feature_flags.json).'
        Namespace  = 'The Kubernetes namespace the backend deployment runs in (default pms, as in the playbook).'
        Deployment = 'The Kubernetes Deployment that runs the PMS backend pods (default pms-backend).'
        KubeConfig = 'The kubeconfig file. Default: the first file in KUBECONFIG, then ~/.kube/config, then the in-cluster service account when running in a pod.'
        KubeContext = 'The kubeconfig context to use instead of its current-context; KubeContextNotFound when the kubeconfig has no such context.'
    }
    Outputs     = @{
        'PMS.Flags.Engine.Kubernetes.PropagationReport' = 'Flag, Environment, StoreValue, ConfigMapChangedAt, Pods (Pod, Ready, StartedAt, StartedAfterConfigChange, Reported, Matches), Verdict, Recommendation, StatusError.'
    }
    Examples    = @(
        @{
            Title   = 'Debug a flag that does not take effect'
            Code    = @'
# The backend's API token, from the pipeline's secret variable (interactively: Read-Host -AsSecureString 'API token').
$token = ConvertTo-SecureString $env:PMS_API_TOKEN -AsPlainText -Force
Test-FlagPropagation -Flag new_billing_engine -Environment production -StatusUrl https://api.pms.example.com/api/v1/feature-flags/status -Token $token | Format-List Verdict, Recommendation, Pods
'@
            Remarks = 'PodsStale with a Restart-PmsDeployment recommendation is the usual answer after editing the ConfigMap.'
        }
        @{
            Title   = 'Check the ConfigMap and pods only, without the status endpoint'
            Code    = 'Test-FlagPropagation -Flag new_billing_engine -Environment production -Namespace pms -ConfigMap feature-flags-config | Select-Object Verdict, Recommendation'
            Remarks = 'Compares the ConfigMap''s value with what each pod mounted; the verdict says whether a restart is needed.'
        }
    )
    Notes       = @'
Error ids: ConfigMapNotFound, ConfigMapKeyNotFound, ConfigMapDocumentInvalid, and those of Get-PmsDeploymentHealth.
'@
}
