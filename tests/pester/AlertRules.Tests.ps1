#Requires -Version 7.4
# Alert rules through the BUILT module, in both directions. Export-FlagAlertRule writes guardrails as a Prometheus
# rule file: the presets are the playbook's "Alert Thresholds" block byte for byte, the REAL promtool accepts the file
# (and its rule unit tests show the preset firing after its 2m), a real Prometheus loading it raises the alerts when the
# backend stand-in turns faulty, and a guardrail that cannot be a rule is refused before any file is touched.
# New-FlagGuardrail -AlertmanagerUrl breaches while that alert fires in a REAL Alertmanager (Debian's).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    # The playbook's "Example Prometheus alerts", from the copy of the playbook in tests/fixtures.
    $script:PlaybookAlerts = Get-PlaybookAlertRules
    # Whitespace-only lines are blank lines to YAML; the playbook's carries spaces.
    function ConvertTo-ComparableYaml([string] $Text) { (($Text -replace "`r", '') -split "`n" | ForEach-Object { $_.TrimEnd() }) -join "`n" | ForEach-Object { $_.TrimEnd("`n") } }

    $script:promtool = (Get-Command promtool -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
    $script:prometheusUri = 'http://127.0.0.1:9/'
    function New-Presets { 'HighErrorRate', 'SlowResponseTime' | ForEach-Object { New-FlagGuardrail -Preset $_ -PrometheusUrl $script:prometheusUri } }
    function Invoke-Promtool([string[]] $Arguments) {
        $output = & $script:promtool @Arguments 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output }
    }
    $script:work = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-alertrules-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Force $script:work
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
    if ($script:work -and (Test-Path -LiteralPath $script:work)) { Remove-Item -LiteralPath $script:work -Recurse -Force }
}

Describe 'Export-FlagAlertRule' -Tag AlertRules {
    It 'promtool is installed (build.ps1 Bootstrap installs it)' {
        $script:promtool | Should -Not -BeNullOrEmpty
    }

    It 'writes the two presets as the playbook''s alert block, byte for byte' {
        $text = New-Presets | Export-FlagAlertRule
        $text | Should -BeOfType [string]
        ConvertTo-ComparableYaml $text | Should -BeExactly (ConvertTo-ComparableYaml $script:PlaybookAlerts)
    }

    It 'writes a file the real promtool accepts, presets and custom guardrails together, and returns it' {
        $custom = New-FlagGuardrail -Name LowSuccessRatio -PrometheusUrl $script:prometheusUri -Query 'sum(rate(http_requests_total{status="200"}[5m])) / sum(rate(http_requests_total[5m]))' -Operator '<' -Threshold 0.99 -For 00:01:30 -Severity Warning
        $quoted = New-FlagGuardrail -Name 'Odd: name' -PrometheusUrl $script:prometheusUri -Query "sum by (handler) (rate(http_requests_total{handler!~'/health.*'}[1m])) # per handler" -Operator '>=' -Threshold 5
        $path = Join-Path $script:work 'alerts.yml'
        $file = Export-FlagAlertRule -Guardrail (@(New-Presets) + $custom + $quoted) -Path $path
        $file.FullName | Should -Be $path
        $check = Invoke-Promtool 'check', 'rules', $path
        $check.ExitCode | Should -Be 0 -Because $check.Output
        $check.Output | Should -Match 'SUCCESS: 4 rules found'
        $text = Get-Content -Raw $path
        $text | Should -Match '(?m)^      - alert: LowSuccessRatio\n        expr: sum\(rate\(http_requests_total\{status="200"\}\[5m\]\)\) / sum\(rate\(http_requests_total\[5m\]\)\) < 0\.99\n        for: 1m30s\n        labels:\n          severity: warning\n        annotations:\n          summary: "Guardrail LowSuccessRatio breached during feature rollout"\n          description: '
        $text | Should -Match "(?m)^      - alert: 'Odd: name'$"
        $text | Should -Not -Match '(?m)^      - alert: .Odd: name.\n        for:' -Because 'a guardrail without For has no for line'
    }

    It 'proves with promtool''s rule unit tests that the exported HighErrorRate fires after 2m of errors, not before' {
        $rules = Join-Path $script:work 'unit-rules.yml'
        $null = New-Presets | Export-FlagAlertRule -Path $rules -Force
        # 60 errors a minute = 1/s, far above 0.05/s; the rate needs two samples (1m), then the rule is pending for 2m.
        $tests = Join-Path $script:work 'unit-tests.yml'
        @"
rule_files:
  - $rules
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{status="500",handler="/api/appointments"}'
        values: '0+60x20'
    alert_rule_test:
      - eval_time: 2m
        alertname: HighErrorRate
        exp_alerts: []
      - eval_time: 4m
        alertname: HighErrorRate
        exp_alerts:
          - exp_labels:
              severity: critical
              status: '500'
              handler: /api/appointments
            exp_annotations:
              summary: High error rate detected during feature rollout
      - eval_time: 10m
        alertname: SlowResponseTime
        exp_alerts: []
"@ | Set-Content -LiteralPath $tests
        $result = Invoke-Promtool 'test', 'rules', $tests
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'SUCCESS'
    }

    It 'refuses a custom guardrail whose query is not PromQL (<Why>) before writing, as promtool would: AlertRuleQueryInvalid' -ForEach @(
        @{ Why = 'unclosed parenthesis'; Query = 'rate(http_requests_total[5m]' }
        @{ Why = 'range that is not a duration'; Query = 'rate(http_requests_total[5 minutes])' }
        @{ Why = 'unclosed string'; Query = 'rate(http_requests_total{status="5..}[5m])' }
        @{ Why = 'dangling operator'; Query = 'sum(rate(http_requests_total[5m])) /' }
        @{ Why = 'shell character'; Query = 'rate(http_requests_total[5m]); drop' }
        @{ Why = 'mismatched bracket'; Query = 'rate(http_requests_total{status="500"][5m])' }
    ) {
        $bad = New-FlagGuardrail -Name Bad -PrometheusUrl $script:prometheusUri -Query $Query -Operator '>' -Threshold 1
        $path = Join-Path $script:work "bad-$([guid]::NewGuid().ToString('N')).yml"
        { Export-FlagAlertRule -Guardrail @((New-Presets)[0], $bad) -Path $path } | Should -Throw -ErrorId 'AlertRuleQueryInvalid*'
        $path | Should -Not -Exist
        @(Get-ChildItem -LiteralPath $script:work -Filter 'bad-*') | Should -BeNullOrEmpty -Because 'not even a temporary file is left'

        # The real promtool refuses the same rule, so the refusal spares a file Prometheus would not load.
        $manual = Join-Path $script:work 'manual-bad.yml'
        "groups:`n  - name: g`n    rules:`n      - alert: Bad`n        expr: '$($Query.Replace("'", "''")) > 1'`n" | Set-Content -LiteralPath $manual
        (Invoke-Promtool 'check', 'rules', $manual).ExitCode | Should -Not -Be 0
        Remove-Item -LiteralPath $manual
    }

    It 'leaves an existing rule file byte-identical when a guardrail is refused, even with -Force' {
        $path = Join-Path $script:work 'existing.yml'
        $null = New-Presets | Export-FlagAlertRule -Path $path -Force
        $before = Get-FileSnapshot $path
        $bad = New-FlagGuardrail -Name Bad -PrometheusUrl $script:prometheusUri -Query 'rate(x[5m]' -Operator '>' -Threshold 1
        { Export-FlagAlertRule -Guardrail $bad -Path $path -Force } | Should -Throw -ErrorId 'AlertRuleQueryInvalid*'
        Get-FileSnapshot $path | Should -Be $before
    }

    It 'refuses a guardrail that is not PromQL (<Kind>) with AlertRuleKindUnsupported and writes nothing' -ForEach @(
        @{ Kind = 'HttpHealth'; Make = { New-FlagGuardrail -HealthUrl http://127.0.0.1:9/health } }
        @{ Kind = 'Alertmanager'; Make = { New-FlagGuardrail -AlertmanagerUrl http://127.0.0.1:9/ -AlertName HighErrorRate } }
        @{ Kind = 'Cohort'; Make = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl http://127.0.0.1:9/ } }
    ) {
        $path = Join-Path $script:work "kind-$Kind.yml"
        { Export-FlagAlertRule -Guardrail (& $Make) -Path $path } | Should -Throw -ErrorId 'AlertRuleKindUnsupported*'
        $path | Should -Not -Exist
    }

    It 'refuses two guardrails of one name (GuardrailNameDuplicate) and a bad group name (AlertRuleGroupInvalid), writing nothing' {
        $path = Join-Path $script:work 'dup.yml'
        $g = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $script:prometheusUri
        { Export-FlagAlertRule -Guardrail $g, $g -Path $path } | Should -Throw -ErrorId 'GuardrailNameDuplicate*'
        { Export-FlagAlertRule -Guardrail $g -Path $path -GroupName 'two words' } | Should -Throw -ErrorId 'AlertRuleGroupInvalid*'
        $path | Should -Not -Exist
    }

    It 'keeps an existing file without -Force (ExportFileExists), writes nothing under -WhatIf, and says why it cannot write (ExportUnwritable)' {
        $path = Join-Path $script:work 'kept.yml'
        Set-Content -LiteralPath $path -Value 'groups: []'
        $before = Get-FileSnapshot $path
        { New-Presets | Export-FlagAlertRule -Path $path } | Should -Throw -ErrorId 'ExportFileExists*'
        Get-FileSnapshot $path | Should -Be $before
        New-Presets | Export-FlagAlertRule -Path $path -Force -WhatIf | Should -BeNullOrEmpty
        Get-FileSnapshot $path | Should -Be $before
        $whatIfPath = Join-Path $script:work 'whatif.yml'
        New-Presets | Export-FlagAlertRule -Path $whatIfPath -WhatIf
        $whatIfPath | Should -Not -Exist

        # A directory where the file's folder should be: nothing written, the directory as it was.
        $blocked = Join-Path $script:work 'blocked'
        $null = New-Item -ItemType File -Path $blocked
        { New-Presets | Export-FlagAlertRule -Path (Join-Path $blocked 'alerts.yml') } | Should -Throw -ErrorId 'ExportUnwritable*'
        (Get-Item $blocked).Length | Should -Be 0
    }
}

Describe 'Alert rules in a real Prometheus and Alertmanager' -Tag AlertRules, Guardrail {
    BeforeAll {
        $serverRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-alerting-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Force $serverRoot
        $flagFile = Join-Path $serverRoot 'feature_flags.json'
        [IO.File]::WriteAllText($flagFile, '{ "staging": { "telehealth_appointments_enabled": true } }')
        $backend = Start-BackendStandIn -FlagFile $flagFile -Flag telehealth_appointments_enabled -Environment staging
        $alertmanager = Start-TestAlertmanager -Directory $serverRoot

        # The presets exactly as exported, plus one custom guardrail on the same errors with a short For, so the test
        # sees an alert go all the way to firing (and to Alertmanager) without waiting the presets' 2 and 5 minutes.
        $fast = New-FlagGuardrail -Name FeatureErrorsFast -PrometheusUrl http://127.0.0.1:9/ -Query 'sum(rate(http_requests_total{status=~"5.."}[5s]))' -Operator '>' -Threshold 0.05 -For 00:00:02
        $rules = Join-Path $serverRoot 'alerts.yml'
        $null = Export-FlagAlertRule -Guardrail (@('HighErrorRate', 'SlowResponseTime' | ForEach-Object { New-FlagGuardrail -Preset $_ -PrometheusUrl http://127.0.0.1:9/ }) + $fast) -Path $rules
        $prometheus = Start-TestPrometheus -Directory $serverRoot -TargetUri $backend.BaseUri -RuleFile $rules -AlertmanagerUri $alertmanager.BaseUri
        $watch = New-FlagGuardrail -AlertmanagerUrl $alertmanager.BaseUri -AlertName FeatureErrorsFast -Matcher @{ severity = 'critical' }
    }

    AfterAll {
        Stop-TestPrometheus $prometheus
        Stop-TestAlertmanager $alertmanager
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    It 'Prometheus loaded every exported rule, and the Alertmanager guardrail is healthy while nothing fires' {
        $groups = (Invoke-RestMethod "$($prometheus.BaseUri)/api/v1/rules" -TimeoutSec 5).data.groups
        @($groups.name) | Should -Be @('feature-flag-rollout')
        @($groups[0].rules.name) | Should -Be @('HighErrorRate', 'SlowResponseTime', 'FeatureErrorsFast')
        @($groups[0].rules | Where-Object health -NE 'ok') | Should -BeNullOrEmpty

        $r = Test-FlagGuardrail -Guardrail $watch
        $r.Kind | Should -Be 'Alertmanager'
        $r.Status | Should -Be 'Healthy'
        @($r.Series).Count | Should -Be 0
        $r.Query | Should -BeLike "$($alertmanager.BaseUri)/api/v2/alerts?active=true&silenced=false&inhibited=false&filter=*"
    }

    It 'a faulty backend makes the exported alerts fire in Prometheus and reach Alertmanager, and the Alertmanager guardrail breaches' {
        Set-BackendFault $backend $true -ErrorRate 0.5 -LatencySeconds 3
        try {
            # The playbook's alerts hold (pending: their for is 2m and 5m); the short one fires.
            $high = Wait-PrometheusAlert $prometheus.BaseUri HighErrorRate -State pending
            $high.labels.severity | Should -Be 'critical'
            $high.annotations.summary | Should -Be 'High error rate detected during feature rollout'
            $slow = Wait-PrometheusAlert $prometheus.BaseUri SlowResponseTime -State pending
            $slow.labels.severity | Should -Be 'warning'
            $fired = Wait-PrometheusAlert $prometheus.BaseUri FeatureErrorsFast -State firing
            [double]$fired.value | Should -BeGreaterThan 0.05
            $null = Wait-AlertmanagerAlert $alertmanager.BaseUri FeatureErrorsFast

            $r = Test-FlagGuardrail -Guardrail $watch
            $r.Status | Should -Be 'Breached'
            @($r.Series).Count | Should -Be 1
            $r.Series[0].Labels['alertname'] | Should -Be 'FeatureErrorsFast'
            $r.Evidence | Should -BeLike 'FeatureErrorsFast BREACHED `[Critical`]*'

            # A matcher the alert does not carry keeps the guardrail healthy: another service's alert does not count.
            $other = New-FlagGuardrail -AlertmanagerUrl $alertmanager.BaseUri -AlertName FeatureErrorsFast -Matcher @{ service = 'billing' }
            (Test-FlagGuardrail -Guardrail $other).Status | Should -Be 'Healthy'
        }
        finally { Set-BackendFault $backend $false }
    }

    It 'an unreachable Alertmanager is an Error the no-data policy governs, not a healthy answer' {
        $port = Get-FreeTcpPort
        $r = Test-FlagGuardrail -Guardrail (New-FlagGuardrail -AlertmanagerUrl "http://127.0.0.1:$port" -AlertName HighErrorRate)
        $r.Status | Should -Be 'Error'
        $r.Reason | Should -BeLike "Alertmanager 127.0.0.1:$port is unreachable*"
    }
}

Describe 'New-FlagGuardrail -AlertmanagerUrl' -Tag AlertRules {
    It 'carries the alert, the matchers and the defaults, and round-trips through its stored form' {
        $g = New-FlagGuardrail -AlertmanagerUrl http://alertmanager.monitoring:9093 -AlertName HighErrorRate -Matcher @{ service = 'pms-api'; environment = 'production' } -For 00:00:30
        $g.Kind | Should -Be 'Alertmanager'
        $g.Name | Should -Be 'HighErrorRate'
        $g.Severity | Should -Be 'Critical'
        $g.NoData | Should -Be 'Pause'
        @($g.Matchers.Keys) | Should -Be @('environment', 'service')
        $g.Expression | Should -Be 'ALERTS{alertname="HighErrorRate", environment="production", service="pms-api"} firing in Alertmanager alertmanager.monitoring:9093'
        # The engine lives in the module's own load context: reach its type through the object, not by name.
        $copy = $g.GetType()::Parse($g.ToJson().ToString())
        $copy.ToJson().ToString() | Should -Be $g.ToJson().ToString()
        $copy.Matchers['service'] | Should -Be 'pms-api'
    }

    It 'refuses <Why> with <ErrorId>' -ForEach @(
        @{ Why = 'a matcher on alertname'; ErrorId = 'GuardrailMatcherInvalid'; Make = { New-FlagGuardrail -AlertmanagerUrl http://127.0.0.1:9/ -AlertName X -Matcher @{ alertname = 'Y' } } }
        @{ Why = 'a matcher label that is not a label name'; ErrorId = 'GuardrailMatcherInvalid'; Make = { New-FlagGuardrail -AlertmanagerUrl http://127.0.0.1:9/ -AlertName X -Matcher @{ 'bad-label' = 'Y' } } }
        @{ Why = 'an URL with credentials'; ErrorId = 'GuardrailUrlInvalid'; Make = { New-FlagGuardrail -AlertmanagerUrl http://user:pw@127.0.0.1:9/ -AlertName X } }
        @{ Why = 'a blank alert name'; ErrorId = 'GuardrailAlertNameRequired'; Make = { New-FlagGuardrail -AlertmanagerUrl http://127.0.0.1:9/ -AlertName ' ' } }
    ) {
        { & $Make } | Should -Throw -ErrorId "$ErrorId*"
    }
}
