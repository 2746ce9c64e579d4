#Requires -Version 7.4
# Cohort guardrails through the BUILT module: New-FlagGuardrail -Cohort and its refusals, then end to end through a real
# Prometheus (Debian's) scraping the PMS backend stand-in, whose request metrics carry the flag's variant per request
# and which can fail or slow down the exposed cohort only. Traffic: 200 requests/s with 0.5 % background errors.
# Bake times are seconds and -MinimumSamples is 200 (10 exposed requests/s at 5 %); no test asserts elapsed time.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedCi = @{}
    foreach ($name in 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'TF_BUILD') {
        $script:savedCi[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $null)
    }
    $script:Flag = 'telehealth_appointments_enabled'
    # 5xx over all requests across every variant: the global threshold a cohort-only fault hides under.
    $script:GlobalRatio = '(sum(rate(http_requests_total{status="500"}[10s])) or vector(0)) / sum(rate(http_requests_total[10s]))'

    function New-TempRoot([string] $Prefix) {
        $root = Join-Path ([IO.Path]::GetTempPath()) ($Prefix + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Force $root
        $root
    }

    function Initialize-CohortCase([string] $Root, [string] $FlagFile, [string] $Document) {
        # Replaced, not rewritten in place: the backend stand-in reads it 10 times a second.
        [IO.File]::WriteAllText("$FlagFile.tmp", $Document)
        Move-Item -LiteralPath "$FlagFile.tmp" -Destination $FlagFile -Force
        $case = Join-Path $Root ('case-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $case 'state'
        $ledgerPath = Join-Path $case 'ledger.jsonl'
        $null = Connect-FlagStore -Path $FlagFile
        $null = Connect-FlagLedger -Path $ledgerPath
        [pscustomobject]@{ Root = $case; FlagFile = $FlagFile; LedgerPath = $ledgerPath }
    }

    function Get-RolloutEvent([string] $RolloutId, [string[]] $EventType) {
        @(Get-FlagAudit -EventType $EventType | Where-Object RolloutId -EQ $RolloutId)
    }

    function Get-EventDetail($AuditEvent) { $AuditEvent.Details | ConvertFrom-Json -DateKind String }

    function Step-CohortRollout([string] $RolloutId, [string[]] $Until, [int] $TimeoutSeconds = 120) {
        <# Steps once a second until a step's action is one of -Until; returns every step result, in order. #>
        $steps = [System.Collections.Generic.List[object]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ($true) {
            $step = Step-FlagRollout -RolloutId $RolloutId -User scheduler -WarningAction SilentlyContinue
            $steps.Add($step)
            if ("$($step.Action)" -in $Until) { return , $steps.ToArray() }
            if ([DateTime]::UtcNow -gt $deadline) { throw "No step of $RolloutId ended in $($Until -join '/') within $TimeoutSeconds s; the last one: $step" }
            Start-Sleep -Seconds 1
        }
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
    foreach ($name in $script:savedCi.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedCi[$name]) }
}

Describe 'New-FlagGuardrail -Cohort, and operators in the playbook''s notation' -Tag Cohort, Guardrail {
    BeforeAll { $prometheusUri = 'http://prometheus.example:9090' }

    It 'a cohort guardrail defaults to OpenTelemetry''s labels, true against false, +50 % at 5 % false alarms, 500 requests, critical, pause on no data' {
        $g = New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl $prometheusUri
        $g.GetType().FullName | Should -Be 'PMS.Flags.Engine.Guardrails.GuardrailDefinition'
        $g.Kind | Should -Be 'Cohort'
        $g.Name | Should -Be 'CohortErrorRate'
        $g.Preset | Should -Be 'CohortErrorRate'
        $g.Flag | Should -BeNullOrEmpty -Because 'a rollout fills in its own flag'
        $g.FlagLabel | Should -Be 'feature_flag_key'
        $g.VariantLabel | Should -Be 'feature_flag_result_variant'
        $g.Treatment | Should -Be 'true'
        $g.Control | Should -Be 'false'
        $g.Window | Should -Be ([TimeSpan]::FromMinutes(5))
        $g.MinimumRelativeRegression | Should -Be 0.5
        $g.FalseAlarmRate | Should -Be 0.05
        $g.MinimumSamples | Should -Be 500
        "$($g.Severity)" | Should -Be 'Critical'
        "$($g.NoData)" | Should -Be 'Pause'
        $g.Expression | Should -Be 'CohortErrorRate of the rollout''s flag: feature_flag_result_variant="true" vs "false", SPRT for +50% at 5% false alarms, min 500 requests'

        $bound = [pscustomobject]@{ Flag = 'new_reports' } | New-FlagGuardrail -Cohort CohortSlowRequests -PrometheusUrl $prometheusUri -Severity Warning -Treatment on -Control off -MinimumSamples 50
        $bound.Flag | Should -Be 'new_reports' -Because '-Flag binds from the pipeline by property name'
        $bound.Name | Should -Be 'CohortSlowRequests'
        "$($bound.Severity)" | Should -Be 'Warning'
        $bound.Expression | Should -BeLike "CohortSlowRequests of 'new_reports': feature_flag_result_variant=""on"" vs ""off""*min 50 requests"
    }

    It 'the custom form carries its queries and settings' {
        $g = New-FlagGuardrail -Name Checkout -PrometheusUrl $prometheusUri -Flag billing -VariantLabel variant -BadQuery 'sum by (variant) (increase(bad[$window]))' -TotalQuery 'sum by (variant) (increase(all[$window]))' -MinimumRelativeRegression 0.25 -FalseAlarmRate 0.01 -Window 00:10:00 -NoData Fail
        $g.Kind | Should -Be 'Cohort'
        $g.Preset | Should -BeNullOrEmpty
        $g.BadQuery | Should -Be 'sum by (variant) (increase(bad[$window]))'
        $g.TotalQuery | Should -Be 'sum by (variant) (increase(all[$window]))'
        $g.MinimumRelativeRegression | Should -Be 0.25
        $g.FalseAlarmRate | Should -Be 0.01
        $g.Window | Should -Be ([TimeSpan]::FromMinutes(10))
        "$($g.NoData)" | Should -Be 'Fail'
    }

    It '-Operator <Spelling> is <Operator>' -ForEach @(
        @{ Spelling = '>'; Operator = 'GreaterThan'; Symbol = '>' }
        @{ Spelling = '>='; Operator = 'GreaterOrEqual'; Symbol = '>=' }
        @{ Spelling = '<'; Operator = 'LessThan'; Symbol = '<' }
        @{ Spelling = '<='; Operator = 'LessOrEqual'; Symbol = '<=' }
        @{ Spelling = 'GreaterThan'; Operator = 'GreaterThan'; Symbol = '>' }
        @{ Spelling = 'GreaterOrEqual'; Operator = 'GreaterOrEqual'; Symbol = '>=' }
        @{ Spelling = 'LessThan'; Operator = 'LessThan'; Symbol = '<' }
        @{ Spelling = 'lessorequal'; Operator = 'LessOrEqual'; Symbol = '<=' }
    ) {
        $g = New-FlagGuardrail -Name x -PrometheusUrl $prometheusUri -Query 'up' -Operator $Spelling -Threshold 1
        "$($g.Operator)" | Should -Be $Operator
        $g.Expression | Should -Be "up $Symbol 1"
    }

    It '-Operator completes with the symbols and the names' {
        $completion = TabExpansion2 -inputScript 'New-FlagGuardrail -Operator ' -cursorColumn 28
        @($completion.CompletionMatches.ListItemText) | Should -Be @('>', '>=', '<', '<=', 'GreaterThan', 'GreaterOrEqual', 'LessThan', 'LessOrEqual')
        $less = TabExpansion2 -inputScript 'New-FlagGuardrail -Operator Less' -cursorColumn 32
        @($less.CompletionMatches.CompletionText) | Should -Be @('LessThan', 'LessOrEqual')
    }

    Context 'bad inputs: a clear ErrorId, and no file or ledger touched' {
        BeforeEach {
            $sandbox = New-FlagSandbox -SeedLedger
            $before = Get-FileSnapshot @($sandbox.FlagFile, $sandbox.LedgerPath)
        }
        AfterEach { Remove-FlagSandbox $sandbox }

        It '<Name>: <ErrorId>' -ForEach @(
            @{ Name = 'a false-alarm rate of 0'; ErrorId = 'GuardrailFalseAlarmRateInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -FalseAlarmRate 0 } }
            @{ Name = 'a false-alarm rate above 0.5'; ErrorId = 'GuardrailFalseAlarmRateInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -FalseAlarmRate 0.51 } }
            @{ Name = 'a negative minimum relative regression'; ErrorId = 'GuardrailMinimumRegressionInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -MinimumRelativeRegression -0.1 } }
            @{ Name = 'no minimum samples'; ErrorId = 'GuardrailMinimumSamplesInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -MinimumSamples 0 } }
            @{ Name = 'a dotted OpenTelemetry name as a Prometheus label'; ErrorId = 'CohortLabelInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -VariantLabel 'feature_flag.result.variant' } }
            @{ Name = 'the same treatment and control'; ErrorId = 'CohortVariantsInvalid'; Action = { New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl 'http://prometheus.example:9090' -Treatment on -Control on } }
            @{ Name = 'an operator that is not one'; ErrorId = 'GuardrailOperatorInvalid'; Action = { New-FlagGuardrail -Name x -PrometheusUrl 'http://prometheus.example:9090' -Query up -Operator '=>' -Threshold 1 } }
            @{ Name = 'a number as an operator'; ErrorId = 'GuardrailOperatorInvalid'; Action = { New-FlagGuardrail -Name x -PrometheusUrl 'http://prometheus.example:9090' -Query up -Operator '1' -Threshold 1 } }
        ) {
            $Action | Should -Throw -ErrorId "$ErrorId,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand"
            Get-FileSnapshot @($sandbox.FlagFile, $sandbox.LedgerPath) | Should -Be $before
        }

        It 'a cohort guardrail standalone without -Flag: CohortFlagRequired, before Prometheus is asked' {
            $g = New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl "http://127.0.0.1:$(Get-FreeTcpPort)"
            { Test-FlagGuardrail $g } | Should -Throw -ErrorId 'CohortFlagRequired,PMS.Flags.Cmdlets.Commands.TestFlagGuardrailCommand' -ExpectedMessage '*pass -Flag*'
            Get-FileSnapshot @($sandbox.FlagFile, $sandbox.LedgerPath) | Should -Be $before
        }
    }
}

Describe 'Cohort guardrails measured against a real Prometheus' -Tag Cohort, Guardrail {
    BeforeAll {
        $serverRoot = New-TempRoot 'pms-flags-cohort-test-'
        $flagFile = Join-Path $serverRoot 'feature_flags.json'
        # Half the users get the feature: both cohorts have traffic. new_reports is off, to try starting rollouts on.
        $document = '{ "staging": { "telehealth_appointments_enabled": { "enabled": true, "rollout_percentage": 50 }, "new_reports": false } }'
        [IO.File]::WriteAllText($flagFile, $document)
        $backend = Start-BackendStandIn -FlagFile $flagFile -Flag $script:Flag -Environment staging
        Set-BackendTraffic $backend @{ baseErrorRate = 0.005 }
        $prometheus = Start-TestPrometheus -Directory $serverRoot -TargetUri $backend.BaseUri
        $prometheusUri = $prometheus.BaseUri
        $null = Wait-PrometheusValue $prometheusUri 'sum by (feature_flag_result_variant) (increase(http_requests_total[10s]))' { param($v) $v.Count -eq 2 -and ($v | Measure-Object -Minimum).Minimum -gt 500 }
    }

    AfterAll {
        Stop-TestPrometheus $prometheus
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    It 'compares the two cohorts: counts, rates, the estimate with its interval and the statistic beside its threshold' {
        $g = New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl $prometheusUri -Flag $script:Flag -Window 00:00:10
        $r = Test-FlagGuardrail $g
        $r.Kind | Should -Be 'Cohort'
        "$($r.Status)" | Should -Be 'Healthy' -Because 'both cohorts fail 0.5 % of requests'
        $r.Cohort.TreatmentRequests | Should -BeGreaterThan 500
        $r.Cohort.ControlRequests | Should -BeGreaterThan 500
        $r.Cohort.TreatmentRate | Should -BeGreaterThan 0.004
        $r.Cohort.TreatmentRate | Should -BeLessThan 0.006
        $r.Cohort.Estimate | Should -BeGreaterThan -0.2
        $r.Cohort.Estimate | Should -BeLessThan 0.2
        $r.Cohort.Lower | Should -BeLessThan 0
        $r.Cohort.Statistic | Should -BeLessThan 0
        $r.ThresholdText | Should -Be '>= 2.9957'
        $r.Value | Should -Be $r.Cohort.Statistic
        $r.Reason | Should -Match '^true 0\.\d+% \(\d+/\d+\) vs false 0\.\d+% \(\d+/\d+\); [+-]\d+% \[-\d+%, \+\d+%\]; LLR -\d+\.\d\d of 3\.00$'
        $r.Cohort.TotalQuery | Should -Be 'sum by (feature_flag_result_variant) (increase(http_requests_total{feature_flag_key="telehealth_appointments_enabled"}[10s]))'
        $r.Evidence | Should -BeLike 'CohortErrorRate healthy: no regression shown: true *'
        ($r | Format-Table | Out-String -Width 250) | Should -Match 'CohortErrorRate\s+Critical\s+Healthy\s+-\d'
    }

    It 'sees a latency fault of the exposed cohort only with CohortSlowRequests' {
        Set-BackendTraffic $backend @{ cohortSlowRate = 0.2; latencySeconds = 3 }
        try {
            $null = Wait-PrometheusValue $prometheusUri 'sum(increase(http_request_duration_seconds_bucket{le="+Inf",feature_flag_result_variant="true"}[10s])) - sum(increase(http_request_duration_seconds_bucket{le="2",feature_flag_result_variant="true"}[10s]))' { param($v) $v[0] -gt 100 }
            $r = Test-FlagGuardrail (New-FlagGuardrail -Cohort CohortSlowRequests -PrometheusUrl $prometheusUri -Flag $script:Flag -Window 00:00:10)
            "$($r.Status)" | Should -Be 'Breached'
            $r.Cohort.TreatmentRate | Should -BeGreaterThan 0.1
            $r.Cohort.ControlBad | Should -Be 0
            $r.BreachingSeries[0].Labels['feature_flag_result_variant'] | Should -Be 'true'
        }
        finally { Set-BackendTraffic $backend @{ cohortSlowRate = 0 } }
    }

    Context 'refused before anything changes' {
        BeforeEach {
            $case = Initialize-CohortCase -Root $serverRoot -FlagFile $flagFile -Document $document
            $null = Set-FlagPercentage -Flag new_reports -Environment staging -Percentage 0 -Reason 'ledger with one event'
            $before = Get-FileSnapshot @($case.FlagFile, $case.LedgerPath)
        }

        It 'a query without the variant label in its result: CohortVariantLabelMissing, from Test-FlagGuardrail and from Start-FlagRollout' {
            $g = New-FlagGuardrail -Name Flat -PrometheusUrl $prometheusUri -BadQuery 'sum(increase(http_requests_total{status="500"}[$window]))' -TotalQuery 'sum(increase(http_requests_total[$window]))' -Flag $script:Flag
            { Test-FlagGuardrail $g } | Should -Throw -ErrorId 'CohortVariantLabelMissing,PMS.Flags.Cmdlets.Commands.TestFlagGuardrailCommand' -ExpectedMessage "*without the label 'feature_flag_result_variant'*"
            { Start-FlagRollout -Flag new_reports -Environment staging -Stages 5, 100 -BakeTime 00:00:05 -Guardrail $g -Reason 'bad cohort query' -NoWait } | Should -Throw -ErrorId 'CohortVariantLabelMissing,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
            Get-FileSnapshot @($case.FlagFile, $case.LedgerPath) | Should -Be $before
            @(Get-FlagAudit -EventType rollout_started).Count | Should -Be 0
        }

        It 'a treatment value that never appears: CohortTreatmentNotFound, and no rollout starts on it' {
            $g = New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl $prometheusUri -Flag $script:Flag -Treatment enabled -Window 00:00:10
            { Test-FlagGuardrail $g } | Should -Throw -ErrorId 'CohortTreatmentNotFound,PMS.Flags.Cmdlets.Commands.TestFlagGuardrailCommand' -ExpectedMessage "*'enabled' never appears in 'feature_flag_result_variant', which carries 'false', 'true'*"
            { Start-FlagRollout -Flag new_reports -Environment staging -Stages 5, 100 -BakeTime 00:00:05 -Guardrail $g -Reason 'misnamed treatment' -NoWait } | Should -Throw -ErrorId 'CohortTreatmentNotFound,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
            Get-FileSnapshot @($case.FlagFile, $case.LedgerPath) | Should -Be $before
        }
    }
}

Describe 'Cohort guardrails in progressive rollouts through a real Prometheus' -Tag Cohort, Rollout {
    BeforeAll {
        $serverRoot = New-TempRoot 'pms-flags-cohort-rollout-'
        $flagFile = Join-Path $serverRoot 'feature_flags.json'
        $initial = '{ "staging": { "telehealth_appointments_enabled": false } }'
        [IO.File]::WriteAllText($flagFile, $initial)
        $backend = Start-BackendStandIn -FlagFile $flagFile -Flag $script:Flag -Environment staging
        Set-BackendTraffic $backend @{ baseErrorRate = 0.005 }
        $prometheus = Start-TestPrometheus -Directory $serverRoot -TargetUri $backend.BaseUri
        $prometheusUri = $prometheus.BaseUri
        $null = Wait-PrometheusValue $prometheusUri 'sum(rate(http_requests_total[10s]))' { param($v) $v[0] -gt 150 }
        $cohort = New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl $prometheusUri -MinimumSamples 200
        $global = New-FlagGuardrail -Name GlobalErrorRatio -PrometheusUrl $prometheusUri -Query $script:GlobalRatio -Operator '>' -Threshold 0.05
    }

    AfterAll {
        Stop-TestPrometheus $prometheus
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    BeforeEach {
        Set-BackendTraffic $backend @{ cohortErrorRate = 0; cohortSlowRate = 0; rps = 200 }
        $case = Initialize-CohortCase -Root $serverRoot -FlagFile $flagFile -Document $initial
    }

    AfterEach { Set-BackendTraffic $backend @{ cohortErrorRate = 0; cohortSlowRate = 0; rps = 200 } }

    It 'a fault confined to the exposed 5 % is rolled back at stage 1, while a global threshold on the same traffic stays healthy' {
        # The playbook's scenario: the feature fails 10 % of its cohort's requests; globally that is about 1 %.
        Set-BackendTraffic $backend @{ cohortErrorRate = 0.1 }
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25, 50, 100 -BakeTime 00:05:00 -Guardrail $cohort, $global -Reason 'cohort-only fault' -NoWait -WarningAction SilentlyContinue
        $started.Plan.Guardrails[0].Flag | Should -Be $script:Flag -Because 'the rollout binds its flag into the cohort guardrail'

        $steps = Step-CohortRollout $started.RolloutId -Until RolledBack
        $last = $steps[-1]
        "$($last.Action)" | Should -Be 'RolledBack'
        $last.StageNumber | Should -Be 1
        @($steps | Where-Object { "$($_.Action)" -eq 'Advanced' }).Count | Should -Be 0
        (Read-FlagDocument $flagFile).staging[$script:Flag].enabled | Should -BeFalse
        (Invoke-RestMethod "$($backend.BaseUri)/_control/state").exposure | Should -Be 0
        (Get-FlagRollout -RolloutId $started.RolloutId).Status | Should -Be 'RolledBack'

        $breach = @(Get-RolloutEvent $started.RolloutId guardrail_breached)
        $breach.Count | Should -Be 1
        $detail = Get-EventDetail $breach[0]
        $detail.guardrail | Should -Be 'CohortErrorRate'
        $evidence = $detail.result.cohort
        $evidence.treatment | Should -Be 'true'
        $evidence.treatment_requests | Should -BeGreaterOrEqual 200
        $evidence.control_requests | Should -BeGreaterOrEqual 200
        $evidence.treatment_rate | Should -BeGreaterThan 0.08
        $evidence.control_rate | Should -BeLessThan 0.01
        $evidence.estimate | Should -BeGreaterThan 5
        $evidence.interval_lower | Should -BeGreaterThan 0
        [double]$evidence.statistic | Should -BeGreaterOrEqual ([double]$evidence.threshold)
        $evidence.concluded | Should -BeTrue
        $evidence.since | Should -Not -BeNullOrEmpty
        $evidence.method | Should -BeLike 'Wald SPRT*'

        # The global threshold on the very same traffic never saw it.
        $globalEvaluations = @(Get-RolloutEvent $started.RolloutId guardrail_evaluated | Where-Object { (Get-EventDetail $_).guardrail -eq 'GlobalErrorRatio' })
        $globalEvaluations.Count | Should -BeGreaterThan 0
        $ratios = foreach ($e in $globalEvaluations) {
            $d = Get-EventDetail $e
            $d.status | Should -Be 'Healthy'
            [double]$d.series[0].value | Should -BeLessThan 0.05
            [double]$d.series[0].value
        }
        ($ratios | Measure-Object -Maximum).Maximum | Should -BeGreaterThan 0.006 -Because 'the cohort''s errors do reach the global ratio (about 1 %), just not its threshold'
        $detail.result.cohort.treatment_rate | Should -BeGreaterThan 0.05 -Because 'while the exposed cohort alone is far above it'
    }

    It 'a healthy feature completes: the cohorts are compared at every partial stage, not at 100 %' {
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 50, 100 -BakeTime 00:00:25 -Guardrail $cohort, $global -Reason 'healthy feature' -NoWait -WarningAction SilentlyContinue
        $steps = Step-CohortRollout $started.RolloutId -Until Completed, RolledBack, Paused -TimeoutSeconds 240
        "$($steps[-1].Action)" | Should -Be 'Completed'
        $value = (Read-FlagDocument $flagFile).staging[$script:Flag]
        # Fully on is the playbook's plain true.
        $value | Should -BeOfType [bool]
        $value | Should -BeTrue

        $evaluations = @(Get-RolloutEvent $started.RolloutId guardrail_evaluated | ForEach-Object { [pscustomobject]@{ Percentage = $_.RolloutPercentage; Detail = Get-EventDetail $_ } } | Where-Object { $_.Detail.guardrail -eq 'CohortErrorRate' })
        foreach ($percentage in 5, 50) {
            $atStage = @($evaluations | Where-Object Percentage -EQ $percentage)
            @($atStage.Detail.status | Sort-Object -Unique) | Should -Not -Contain 'Breached'
            @($atStage.Detail.status | Sort-Object -Unique) | Should -Not -Contain 'NoData'
            @($atStage | Where-Object { $_.Detail.status -eq 'Healthy' }).Count | Should -BeGreaterThan 0 -Because "the stage at $percentage% advanced on a comparison, not on too little evidence"
            $judged = @($atStage | Where-Object { $_.Detail.status -eq 'Healthy' })[-1].Detail.cohort
            $judged.treatment_requests | Should -BeGreaterOrEqual 200
            $judged.concluded | Should -BeFalse
        }
        $full = @($evaluations | Where-Object Percentage -EQ 100)
        $full.Count | Should -BeGreaterThan 0
        $full | ForEach-Object { $_.Detail.evidence | Should -BeLike 'CohortErrorRate not applicable: the stage serves true to every request*' }
    }

    It 'too little traffic to compare pauses the rollout when the bake is over, and the flag stays where it was' {
        Set-BackendTraffic $backend @{ rps = 2 }
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 100 -BakeTime 00:00:08 -Guardrail $cohort, $global -Reason 'quiet service' -NoWait -WarningAction SilentlyContinue
        $steps = Step-CohortRollout $started.RolloutId -Until Paused, Advanced, RolledBack -TimeoutSeconds 60
        $last = $steps[-1]
        "$($last.Action)" | Should -Be 'Paused'
        @($steps | Select-Object -SkipLast 1 | ForEach-Object { "$($_.Action)" } | Sort-Object -Unique) | Should -Be @('Waiting') -Because 'while the bake runs the guardrail waits for evidence'
        $state = Get-FlagRollout -RolloutId $started.RolloutId
        "$($state.Status)" | Should -Be 'Paused'
        $state.PauseCause | Should -Be 'no_data'
        $cohortResult = @($last.Guardrails | Where-Object Guardrail -EQ 'CohortErrorRate')[0]
        "$($cohortResult.Status)" | Should -Be 'NoData'
        $cohortResult.Reason | Should -BeLike 'too few requests to compare: true *, false * requests of the 200 each cohort needs, since the stage started at *'
        (Read-FlagDocument $flagFile).staging[$script:Flag].rollout_percentage | Should -Be 5
    }
}
