@{
    Synopsis    = 'Reads the logs of every pod of a deployment, merged by time; JSON log lines become objects.'
    Description = @'
Get-PmsLog reads each pod's log like kubectl logs (the last -Tail lines of each pod, only those of the last -Since),
merges them by timestamp and keeps the lines that match -Match. A line that is a JSON object becomes an object with the
line's own fields plus Pod, LogTime and Line, so Get-PmsLog -Match feature_flag_toggled yields audit-like objects you
can filter and sort; any other line becomes an object with Pod, LogTime and Message.
'@
    Parameters  = @{
        Tail  = 'Lines per pod, from the end (default 100).'
        Since = 'Only lines newer than this (for example 00:15:00).'
        Match = 'A regular expression the line must match.'
        Namespace  = 'The Kubernetes namespace the backend deployment runs in (default pms, as in the playbook).'
        Deployment = 'The Kubernetes Deployment that runs the PMS backend pods (default pms-backend).'
        KubeConfig = 'The kubeconfig file. Default: the first file in KUBECONFIG, then ~/.kube/config, then the in-cluster service account when running in a pod.'
        KubeContext = 'The kubeconfig context to use instead of its current-context; KubeContextNotFound when the kubeconfig has no such context.'
    }
    Outputs     = @{
        'System.Management.Automation.PSObject' = 'PMS.Flags.LogRecord (a JSON line: its fields, Pod, LogTime, Line) or PMS.Flags.LogLine (Pod, LogTime, Message).'
    }
    Examples    = @(
        @{
            Title   = 'Who toggled flags in the last hour'
            Code    = 'Get-PmsLog -Match feature_flag_toggled -Since 01:00:00 | Format-Table LogTime, Pod, feature_flag, new_state, user_id'
            Remarks = 'The application''s structured log lines, as objects.'
        }
        @{
            Title   = 'The last lines of every pod after a rollback'
            Code    = 'Get-PmsLog -Namespace pms -Deployment pms-backend -Tail 100 | Where-Object level -EQ error'
            Remarks = 'The playbook''s "kubectl logs --tail=100" across all pods of the deployment, filtered to error lines.'
        }
    )
    Notes       = @'
Error ids: LogPatternInvalid, LogRangeInvalid, and those of Get-PmsDeploymentHealth.
'@
}
