@{
    Synopsis     = 'Writes guardrails as a Prometheus alerting-rule file, so the alerts watched during a bake are the checks the rollout makes.'
    Description  = @'
Export-FlagAlertRule turns Prometheus guardrails (New-FlagGuardrail -Preset, or -Name/-Query/-Operator/-Threshold) into
one Prometheus rule group: for each guardrail an alert with expr (the query, the operator and the threshold), for,
labels.severity (critical or warning) and annotations.summary; custom guardrails also get annotations.description.
The two presets come out exactly as the playbook's "Alert Thresholds" block: HighErrorRate
(rate(http_requests_total{status=~"5.."}[5m]) > 0.05 for 2m, critical) and SlowResponseTime
(histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2 for 5m, warning).

Every guardrail is checked before anything is written. A query that is not valid PromQL (an unclosed bracket or string,
a range that is not a duration, a character PromQL has no use for, a dangling operator) is refused with
AlertRuleQueryInvalid; health-endpoint, cohort and deployment guardrails are refused with AlertRuleKindUnsupported,
because a Prometheus rule can only hold PromQL. Without -Path the rule file's text is written to the pipeline. With
-Path it is written to a temporary file beside the target and renamed, so a failure never leaves half a file, and an
existing file is replaced only with -Force. The output passes promtool check rules.
'@
    Parameters   = @{
        Guardrail = 'The guardrails to write as alert rules, from New-FlagGuardrail; they may be piped. Only Prometheus guardrails (presets and custom PromQL) can be exported.'
        Path      = 'The rule file to write, for example ./alerts.yml, to be listed under rule_files in prometheus.yml. Without it, the YAML text is returned instead of a file.'
        GroupName = 'The rule group the alerts are written under; the default is feature-flag-rollout, the playbook''s group. Letters, digits, underscore, dot, colon and dash.'
        Force     = 'Replaces the rule file if it already exists; without it an existing file is left untouched and ExportFileExists is raised.'
        WhatIf    = 'Shows the rule file that would be written and how many alerts, without writing it.'
        Confirm   = 'Asks for confirmation before writing the rule file.'
    }
    Inputs       = @{
        'PMS.Flags.Engine.Guardrails.GuardrailDefinition' = 'Guardrails from New-FlagGuardrail.'
    }
    Outputs      = @{
        'System.String'     = 'The rule file''s YAML text, when -Path is not given.'
        'System.IO.FileInfo' = 'The rule file that was written, when -Path is given.'
    }
    Examples     = @(
        @{
            Title   = 'Show the playbook''s two alerts as a rule file'
            Code    = '''HighErrorRate'', ''SlowResponseTime'' | ForEach-Object { New-FlagGuardrail -Preset $_ -PrometheusUrl http://prometheus:9090 } | Export-FlagAlertRule'
            Remarks = 'Prints the playbook''s feature-flag-rollout group with its HighErrorRate and SlowResponseTime alerts.'
        }
        @{
            Title   = 'Write the rules of a rollout''s guardrails and check them with promtool'
            Code    = '$guardrails = @(New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl http://prometheus:9090; New-FlagGuardrail -Name LowSuccessRatio -PrometheusUrl http://prometheus:9090 -Query ''sum(rate(http_requests_total{status="200"}[5m])) / sum(rate(http_requests_total[5m]))'' -Operator ''<'' -Threshold 0.99 -For 00:01:00 -Severity Warning); Export-FlagAlertRule -Guardrail $guardrails -Path ./alerts.yml -Force; promtool check rules ./alerts.yml'
            Remarks = 'Writes alerts.yml with both alerts, replacing last release''s file, and lets promtool confirm Prometheus will load it.'
        }
    )
    Notes        = @'
Error ids: AlertRuleQueryInvalid (a query is not valid PromQL; no file is written), AlertRuleKindUnsupported (not a
Prometheus guardrail), AlertRuleGroupInvalid, AlertRuleGuardrailRequired, GuardrailNameDuplicate (two alerts of one
group with the same name), ExportFileExists (the file exists and -Force was not given; it is left untouched),
ExportUnwritable.
'@
    RelatedLinks = @('New-FlagGuardrail', 'Test-FlagGuardrail', 'Start-FlagRollout', 'about_PMS.Flags')
}
