#Requires -Version 7.4
# Guardrails through the BUILT module: New-FlagGuardrail's presets are the playbook's two alerts exactly, custom and
# health-URL guardrails carry what they were given, and Test-FlagGuardrail measures against a real Prometheus (Debian's)
# scraping the PMS backend stand-in, which serves the flag at 100% (200 requests/s, all fast and successful until its
# feature is made faulty).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedCi = @{}
    foreach ($name in 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'TF_BUILD') {
        $script:savedCi[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $null)
    }

    # The playbook's "Example Prometheus alerts", from the copy of the playbook in tests/fixtures.
    $script:PlaybookAlerts = Get-PlaybookAlertRules
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
    foreach ($name in $script:savedCi.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedCi[$name]) }
}

Describe 'New-FlagGuardrail' -Tag Rollout, Guardrail {
    BeforeAll { $prometheusUri = 'http://prometheus.example:9090' }

    It 'HighErrorRate is the playbook alert exactly: expression, threshold, for 2m, critical' {
        $g = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheusUri
        $g.GetType().FullName | Should -Be 'PMS.Flags.Engine.Guardrails.GuardrailDefinition'
        $g.Kind | Should -Be 'Prometheus'
        $g.Name | Should -Be 'HighErrorRate'
        $g.Preset | Should -Be 'HighErrorRate'
        $g.Query | Should -BeExactly 'rate(http_requests_total{status=~"5.."}[5m])'
        $g.Operator | Should -Be 'GreaterThan'
        $g.Threshold | Should -Be 0.05
        $g.Expression | Should -BeExactly 'rate(http_requests_total{status=~"5.."}[5m]) > 0.05'
        $g.For | Should -Be ([TimeSpan]::FromMinutes(2))
        $g.Severity | Should -Be 'Critical'
        $g.NoData | Should -Be 'Pause' -Because 'no data pauses by default; it never passes or aborts by accident'
        $g.PrometheusUrl | Should -Be ([uri]$prometheusUri)
        $g.MinimumTrafficQuery | Should -BeNullOrEmpty
    }

    It 'SlowResponseTime is the playbook alert exactly: expression, threshold, for 5m, warning' {
        $g = New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $prometheusUri
        $g.Kind | Should -Be 'Prometheus'
        $g.Name | Should -Be 'SlowResponseTime'
        $g.Preset | Should -Be 'SlowResponseTime'
        $g.Query | Should -BeExactly 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))'
        $g.Operator | Should -Be 'GreaterThan'
        $g.Threshold | Should -Be 2
        $g.Expression | Should -BeExactly 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2'
        $g.For | Should -Be ([TimeSpan]::FromMinutes(5))
        $g.Severity | Should -Be 'Warning'
        $g.NoData | Should -Be 'Pause'
    }

    It 'the presets, written back as Prometheus alerting rules, are the playbook''s rules and pass promtool' {
        $rules = foreach ($preset in 'HighErrorRate', 'SlowResponseTime') {
            $g = New-FlagGuardrail -Preset $preset -PrometheusUrl $prometheusUri
            [pscustomobject]@{ alert = $g.Name; expr = $g.Expression; for = '{0}m' -f $g.For.TotalMinutes; severity = "$($g.Severity)".ToLowerInvariant() }
        }
        # The same four fields, read from the playbook's YAML text.
        $playbook = [regex]::Matches($script:PlaybookAlerts, '(?ms)- alert: (?<alert>\S+)\s+expr: (?<expr>[^\r\n]+)\s+for: (?<for>\S+)\s+labels:\s+severity: (?<severity>\S+)') | ForEach-Object {
            [pscustomobject]@{ alert = $_.Groups['alert'].Value; expr = $_.Groups['expr'].Value.Trim(); for = $_.Groups['for'].Value; severity = $_.Groups['severity'].Value }
        }
        @($playbook).Count | Should -Be 2
        ($rules | ConvertTo-Json) | Should -BeExactly ($playbook | ConvertTo-Json)

        # Required: build.ps1 Bootstrap installs promtool (build/bootstrap/30-promtool-pyyaml.sh).
        $promtool = Get-Command promtool -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        $promtool | Should -Not -BeNullOrEmpty -Because 'build.ps1 Bootstrap installs promtool'
        & {
            $file = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-rules-' + [guid]::NewGuid().ToString('N') + '.yml')
            try {
                $yaml = "groups:`n  - name: pms-flags-presets`n    rules:`n" + (($rules | ForEach-Object {
                                "      - alert: $($_.alert)`n        expr: '$($_.expr)'`n        for: $($_.for)`n        labels:`n          severity: $($_.severity)"
                            }) -join "`n") + "`n"
                Set-Content -LiteralPath $file -Value $yaml
                $check = & $promtool.Source check rules $file 2>&1 | Out-String
                $LASTEXITCODE | Should -Be 0 -Because $check
                $check | Should -Match 'SUCCESS: 2 rules found'
            }
            finally { Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue }
        }
    }

    It 'a preset takes -NoData and a minimum-traffic query' {
        $g = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheusUri -NoData Fail -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1
        $g.NoData | Should -Be 'Fail'
        $g.MinimumTrafficQuery | Should -Be 'sum(rate(http_requests_total[5m]))'
        $g.MinimumTraffic | Should -Be 1
        $g.Query | Should -BeExactly 'rate(http_requests_total{status=~"5.."}[5m])'
    }

    It 'a custom guardrail carries exactly what it was given' {
        $g = New-FlagGuardrail -Name SuccessRatio -PrometheusUrl $prometheusUri -Query 'sum(rate(http_requests_total{status="200"}[5m])) / sum(rate(http_requests_total[5m]))' -Operator LessThan -Threshold 0.99 -For 00:00:30 -Severity Warning -NoData Fail
        $g.Kind | Should -Be 'Prometheus'
        $g.Name | Should -Be 'SuccessRatio'
        $g.Preset | Should -BeNullOrEmpty
        $g.Operator | Should -Be 'LessThan'
        $g.Threshold | Should -Be 0.99
        $g.For | Should -Be ([TimeSpan]::FromSeconds(30))
        $g.Severity | Should -Be 'Warning'
        $g.NoData | Should -Be 'Fail'
        $g.Expression | Should -BeExactly 'sum(rate(http_requests_total{status="200"}[5m])) / sum(rate(http_requests_total[5m])) < 0.99'
        $g.ToString() | Should -Be 'SuccessRatio [Warning] sum(rate(http_requests_total{status="200"}[5m])) / sum(rate(http_requests_total[5m])) < 0.99 for 30s'

        $defaults = New-FlagGuardrail -Name Errors -PrometheusUrl $prometheusUri -Query 'x' -Operator GreaterThan -Threshold 1
        $defaults.Severity | Should -Be 'Critical'
        $defaults.For | Should -Be ([TimeSpan]::Zero)
        $defaults.NoData | Should -Be 'Pause'
    }

    It 'a -HealthUrl guardrail requires 2xx, reports latency, and takes an optional latency threshold' {
        $g = New-FlagGuardrail -HealthUrl 'http://127.0.0.1:8080/health'
        $g.Kind | Should -Be 'HttpHealth'
        $g.Name | Should -Be 'Health 127.0.0.1:8080/health'
        $g.HealthUrl | Should -Be ([uri]'http://127.0.0.1:8080/health')
        $g.Threshold | Should -BeNullOrEmpty
        $g.Severity | Should -Be 'Critical'
        $g.NoData | Should -Be 'Pause'
        $g.Expression | Should -Be 'GET http://127.0.0.1:8080/health -> 2xx'

        $slow = New-FlagGuardrail -Name Api -HealthUrl 'https://api.pms.example/health' -MaximumLatencySeconds 0.5 -Severity Warning -For 00:01:00
        $slow.Name | Should -Be 'Api'
        $slow.Threshold | Should -Be 0.5
        $slow.Severity | Should -Be 'Warning'
        $slow.For | Should -Be ([TimeSpan]::FromMinutes(1))
        $slow.Expression | Should -Be 'GET https://api.pms.example/health -> 2xx within 0.5s'
    }

    It '<Name>: <ErrorId>' -ForEach @(
        # -Preset is a ValidateSet, so PowerShell refuses an unknown preset while binding: its own ErrorId, on our cmdlet.
        @{ Name = 'an unknown preset'; ErrorId = 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -Preset Nope -PrometheusUrl 'http://prometheus.example:9090' } }
        @{ Name = 'a negative For'; ErrorId = 'GuardrailForNegative,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -Name x -PrometheusUrl 'http://prometheus.example:9090' -Query 'up' -Operator GreaterThan -Threshold 1 -For ([TimeSpan]::FromSeconds(-1)) } }
        @{ Name = 'credentials in the Prometheus URL (they would reach the ledger)'; ErrorId = 'GuardrailUrlInvalid,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -Name x -PrometheusUrl 'http://admin:secret@prometheus.example:9090' -Query 'up' -Operator GreaterThan -Threshold 1 } }
        @{ Name = 'a non-HTTP health URL'; ErrorId = 'GuardrailUrlInvalid,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -HealthUrl 'ftp://backend.example/health' } }
        @{ Name = 'an infinite threshold'; ErrorId = 'GuardrailThresholdInvalid,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -Name x -PrometheusUrl 'http://prometheus.example:9090' -Query 'up' -Operator GreaterThan -Threshold ([double]::PositiveInfinity) } }
        @{ Name = 'a minimum-traffic query without a minimum'; ErrorId = 'GuardrailMinimumTrafficInvalid,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
            Action = { New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl 'http://prometheus.example:9090' -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' } }
    ) {
        $Action | Should -Throw -ErrorId $ErrorId
    }
}

Describe 'Test-FlagGuardrail against a real Prometheus' -Tag Rollout, Guardrail {
    BeforeAll {
        $serverRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-guardrail-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Force $serverRoot
        $flagFile = Join-Path $serverRoot 'feature_flags.json'
        # The backend serves its feature to everyone; the other flags are for the rollout below.
        $document = '{ "staging": { "telehealth_appointments_enabled": true, "new_reports": false } }'
        [IO.File]::WriteAllText($flagFile, $document)
        $backend = Start-BackendStandIn -FlagFile $flagFile -Flag telehealth_appointments_enabled -Environment staging
        $prometheus = Start-TestPrometheus -Directory $serverRoot -TargetUri $backend.BaseUri
        $prometheusUri = $prometheus.BaseUri
        $healthUrl = "$($backend.BaseUri)/health"
        $perSeries = 'rate(http_requests_total[5s])'
        # rate() answers once two samples are in its window, and reaches the full 200/s once the 5 s window is full;
        # each handler/status pair is one series.
        $null = Wait-PrometheusValue $prometheusUri $perSeries { param($v) $v.Count -eq 2 -and ($v | Measure-Object -Maximum).Maximum -gt 180 }
    }

    AfterAll {
        Stop-TestPrometheus $prometheus
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    AfterEach {
        Set-BackendHealth $backend $true
    }

    It 'returns the measured value beside the threshold' {
        $g = New-FlagGuardrail -Name Traffic -PrometheusUrl $prometheusUri -Query 'sum(rate(http_requests_total[5s]))' -Operator GreaterThan -Threshold 1000
        $r = Test-FlagGuardrail -Guardrail $g
        $r.GetType().FullName | Should -Be 'PMS.Flags.Engine.Guardrails.GuardrailResult'
        $r.Guardrail | Should -Be 'Traffic'
        $r.Status | Should -Be 'Healthy'
        $r.Value | Should -BeGreaterThan 150 -Because 'the stand-in serves 200 requests/s'
        $r.Value | Should -BeLessThan 250
        $r.Threshold | Should -Be 1000
        $r.ThresholdText | Should -Be '> 1000'
        $r.Query | Should -Be 'sum(rate(http_requests_total[5s]))'
        @($r.Series).Count | Should -Be 1
        $r.Series[0].RawValue | Should -BeOfType [string] -Because 'the raw value is Prometheus''s text, not a re-formatted double'
        [double]$r.Series[0].RawValue | Should -Be $r.Value
        $r.Evidence | Should -BeLike "Traffic healthy: worst {} = $($r.Series[0].RawValue) across 1 series; threshold > 1000"
        $table = $r | Format-Table | Out-String -Width 250
        $table | Should -Match 'Value\s+Threshold'
        $table | Should -Match ([regex]::Escape('{0:G6}' -f $r.Value) + '\s+> 1000')
    }

    It 'judges a multi-series query per series, as the matching Prometheus alert would: one series crossing breaches, and the evidence names it' {
        $high = New-FlagGuardrail -Name PerSeriesHigh -PrometheusUrl $prometheusUri -Query $perSeries -Operator GreaterThan -Threshold 100
        $r = Test-FlagGuardrail $high
        $r.Status | Should -Be 'Breached'
        @($r.Series).Count | Should -Be 2
        @($r.BreachingSeries).Count | Should -Be 1
        $r.BreachingSeries[0].Labels['status'] | Should -Be '200'
        $r.BreachingSeries[0].Labels['handler'] | Should -Be '/api/v1/appointments'
        $r.Evidence | Should -BeLike 'PerSeriesHigh BREACHED `[Critical`]: rate(http_requests_total`[5s`]) > 100; 1 of 2 series: {*handler="/api/v1/appointments",*status="200"} = *'
        $r.Evidence | Should -Not -BeLike '*status="500"*'

        $low = New-FlagGuardrail -Name PerSeriesLow -PrometheusUrl $prometheusUri -Query $perSeries -Operator LessThan -Threshold 1
        $r = Test-FlagGuardrail $low
        $r.Status | Should -Be 'Breached'
        @($r.BreachingSeries).Count | Should -Be 1
        $r.BreachingSeries[0].Labels['status'] | Should -Be '500'
        $r.Value | Should -Be 0 -Because 'for LessThan the worst value is the lowest'
        $r.Evidence | Should -BeLike '*1 of 2 series: {*handler="/api/v1/appointments",*status="500"} = 0 *'
    }

    It 'records the breaching series by its labels in the ledger when a rollout step breaches' {
        $case = Join-Path $serverRoot ('case-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $case 'state'
        $null = Connect-FlagStore -Path $flagFile
        $null = Connect-FlagLedger -Path (Join-Path $case 'ledger.jsonl')
        $g = New-FlagGuardrail -Name PerSeriesLow -PrometheusUrl $prometheusUri -Query $perSeries -Operator LessThan -Threshold 1 -Severity Warning
        $started = Start-FlagRollout -Flag new_reports -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Guardrail $g -Reason 'multi-series evidence' -NoWait 3>$null
        $step = Step-FlagRollout -RolloutId $started.RolloutId 3>$null
        $step.Action | Should -Be 'Paused'
        $breached = @(Get-FlagAudit -EventType guardrail_breached)
        $breached.Count | Should -Be 1
        $details = $breached[0].Details | ConvertFrom-Json
        @($details.series).Count | Should -Be 1
        $details.series[0] | Should -BeLike '{*handler="/api/v1/appointments",*status="500"} = 0'
        $details.threshold | Should -Be '< 1'
        $details.query | Should -Be $perSeries
        @($details.result.series).Count | Should -Be 2 -Because 'the healthy series is kept as evidence too'
        # Replaced, not rewritten in place: the backend reads the file 10 times a second, and a torn read would count
        # as 0 % exposure, giving the unexposed variant series of its own.
        [IO.File]::WriteAllText("$flagFile.tmp", $document)
        Move-Item -LiteralPath "$flagFile.tmp" -Destination $flagFile -Force
    }

    It 'evaluates the playbook presets against real Prometheus: both healthy, with their values' {
        $errors = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheusUri
        $latency = New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $prometheusUri
        $null = Wait-PrometheusValue $prometheusUri $errors.Query { param($v) -not [double]::IsNaN($v[0]) }
        $null = Wait-PrometheusValue $prometheusUri $latency.Query { param($v) -not [double]::IsNaN($v[0]) }

        $results = @($errors, $latency | Test-FlagGuardrail)
        $results.Guardrail | Should -Be @('HighErrorRate', 'SlowResponseTime')

        $e = $results[0]
        $e.Status | Should -Be 'Healthy'
        $e.Severity | Should -Be 'Critical'
        $e.Value | Should -Be 0 -Because 'the stand-in serves no 5xx while its feature is healthy'
        $e.ThresholdText | Should -Be '> 0.05'
        $e.For | Should -Be ([TimeSpan]::FromMinutes(2))
        @($e.Series).Count | Should -Be 1 -Because 'status=~"5.." matches the one 500 series'
        $e.Series[0].Labels['status'] | Should -Be '500'

        $l = $results[1]
        $l.Status | Should -Be 'Healthy'
        $l.Severity | Should -Be 'Warning'
        $l.Value | Should -BeGreaterThan 0.05 -Because 'every request takes 80 ms: the p95 falls in the 0.05-0.1 s bucket'
        $l.Value | Should -BeLessOrEqual 0.1
        $l.ThresholdText | Should -Be '> 2'
        $l.Series[0].Labels['handler'] | Should -Be '/api/v1/appointments'
        $l.Series[0].Labels.ContainsKey('le') | Should -BeFalse
    }

    It 'says why there is no data: an empty answer, traffic below the minimum, Prometheus unreachable' {
        $empty = Test-FlagGuardrail (New-FlagGuardrail -Name Empty -PrometheusUrl $prometheusUri -Query 'rate(pms_no_such_metric_total[5s])' -Operator GreaterThan -Threshold 1)
        $empty.Status | Should -Be 'NoData'
        $empty.Reason | Should -Be 'the query returned no series'
        $empty.Value | Should -BeNullOrEmpty
        $empty.NoData | Should -Be 'Pause'
        $empty.Evidence | Should -Be 'Empty no data: the query returned no series; policy Pause'
        ($empty | Format-Table | Out-String -Width 250) | Should -Match 'no data'

        $quiet = Test-FlagGuardrail (New-FlagGuardrail -Name Quiet -PrometheusUrl $prometheusUri -Query 'sum(rate(http_requests_total{status="500"}[5s]))' -Operator GreaterThan -Threshold 1 -MinimumTrafficQuery 'sum(rate(http_requests_total[5s]))' -MinimumTraffic 1000000)
        $quiet.Status | Should -Be 'NoData'
        $quiet.Counted | Should -BeFalse
        $quiet.Reason | Should -BeLike 'below minimum traffic (* < 1000000)'
        $quiet.Traffic | Should -BeGreaterThan 150

        $down = "http://127.0.0.1:$(Get-FreeTcpPort)"
        $blind = Test-FlagGuardrail (New-FlagGuardrail -Name Blind -PrometheusUrl $down -Query 'up' -Operator LessThan -Threshold 1)
        $blind.Status | Should -Be 'Error'
        $blind.Counted | Should -BeFalse
        $blind.Reason | Should -BeLike "Prometheus at $down/ is unreachable after 3 attempts*"
    }

    It 'refuses malformed PromQL with the error Prometheus gave' {
        $bad = New-FlagGuardrail -Name Broken -PrometheusUrl $prometheusUri -Query 'rate(http_requests_total[5m' -Operator GreaterThan -Threshold 1
        { Test-FlagGuardrail $bad } | Should -Throw -ErrorId 'PrometheusQueryRejected,PMS.Flags.Cmdlets.Commands.TestFlagGuardrailCommand' -ExpectedMessage "*Prometheus rejected the query of guardrail 'Broken' (bad_data)*"
    }

    It 'probes a health URL: 2xx with its latency is healthy, a 503 breaches, and so does a latency over the limit' {
        $g = New-FlagGuardrail -Name BackendHealth -HealthUrl $healthUrl
        $ok = Test-FlagGuardrail $g
        $ok.Status | Should -Be 'Healthy'
        $ok.Kind | Should -Be 'HttpHealth'
        $ok.Value | Should -BeGreaterThan 0
        $ok.Reason | Should -BeLike 'HTTP 200 OK in * s'

        Set-BackendHealth $backend $false
        $down = Test-FlagGuardrail $g
        $down.Status | Should -Be 'Breached'
        $down.Reason | Should -BeLike 'HTTP 503 Service Unavailable in * s'
        $down.BreachingSeries[0].Labels['url'] | Should -Be $healthUrl
        Set-BackendHealth $backend $true

        $strict = Test-FlagGuardrail (New-FlagGuardrail -Name Strict -HealthUrl $healthUrl -MaximumLatencySeconds 0.000001)
        $strict.Status | Should -Be 'Breached'
        $strict.Reason | Should -BeLike 'HTTP 200 OK in * s'
        $strict.ThresholdText | Should -Be '> 1E-06'
    }

    # Last in this Describe: the faulty feature's errors stay in the presets' 5-minute window.
    It 'with the feature faulty, HighErrorRate is pending (its 2m For has not passed) while a For-less copy breaches' {
        Set-BackendFault $backend $true
        try {
            $preset = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheusUri
            $null = Wait-PrometheusValue $prometheusUri $preset.Query { param($v) ($v | Measure-Object -Maximum).Maximum -gt 0.05 }
            $pending = Test-FlagGuardrail $preset
            $pending.Status | Should -Be 'Pending' -Because 'one evaluation cannot have held the condition for 2 minutes'
            $pending.Value | Should -BeGreaterThan 0.05
            $pending.Evidence | Should -BeLike 'HighErrorRate pending `[Critical`]: rate(http_requests_total{status=~"5.."}`[5m`]) > 0.05; 1 of * series: *status="500"} = * (held 0s of 2m*' -Because 'the stand-in labels requests by variant, so an unexposed request that failed adds a second, healthy series'

            $now = Test-FlagGuardrail (New-FlagGuardrail -Name HighErrorRateNow -PrometheusUrl $prometheusUri -Query $preset.Query -Operator GreaterThan -Threshold 0.05)
            $now.Status | Should -Be 'Breached'
            $now.Value | Should -BeGreaterThan 0.05
        }
        finally { Set-BackendFault $backend $false }
    }
}
