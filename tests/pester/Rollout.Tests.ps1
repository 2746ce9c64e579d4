#Requires -Version 7.4
# Progressive rollouts end to end through the BUILT module. A real Prometheus (Debian's) scrapes the PMS backend
# stand-in, whose error rate and latency follow the flag's exposure in the very feature_flags.json the rollout changes
# (200 requests/s; a faulty feature fails half of its requests and answers in 3 s).
#
# One Prometheus and one backend per Describe. Every test puts the flag document back, gets its own ledger and state
# folder, and waits for the error rate to be back at zero before it starts. Waits poll (toolchain.md section 7);
# guardrail windows are 5 s, bake times a few seconds, and the evaluation interval (-PollInterval) is 1 s.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    # The rollout cmdlets annotate CI logs and append to the GitHub job summary: not the real ones from these tests.
    $script:savedCi = @{}
    foreach ($name in 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'TF_BUILD') {
        $script:savedCi[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $null)
    }

    # The backend stand-in follows this flag in staging.
    $script:Flag = 'telehealth_appointments_enabled'
    $script:InitialDocument = @'
{
  "staging": {
    "telehealth_appointments_enabled": false,
    "new_billing_engine": false,
    "patient_portal_v2": false,
    "new_reports": { "enabled": false, "rollout_percentage": 0 }
  },
  "production": {
    "telehealth_appointments_enabled": false
  }
}
'@
    # 5xx responses per second and p95 latency, over 5 s so that a test sees a change within a few scrapes.
    $script:ErrorQuery = 'sum(rate(http_requests_total{status="500"}[5s]))'
    $script:LatencyQuery = 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5s])))'

    function New-TempRoot([string] $Prefix) {
        $root = Join-Path ([IO.Path]::GetTempPath()) ($Prefix + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Force $root
        $root
    }

    function Initialize-RolloutCase {
        <# The flag document back to its initial bytes; a fresh ledger and state folder, connected with the document. #>
        param([string] $Root, [string] $FlagFile, [switch] $SeedLedger)
        [IO.File]::WriteAllText($FlagFile, $script:InitialDocument)
        $case = Join-Path $Root ('case-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $case 'state'
        $ledgerPath = Join-Path $case 'ledger.jsonl'
        $null = Connect-FlagStore -Path $FlagFile
        $null = Connect-FlagLedger -Path $ledgerPath 3>$null
        if ($SeedLedger) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'seed event' }
        [pscustomobject]@{ Root = $case; FlagFile = $FlagFile; LedgerPath = $ledgerPath; StateDir = $env:PMS_FLAGS_STATE_DIR; SpoolDir = Join-Path $env:PMS_FLAGS_STATE_DIR 'spool' }
    }

    function Get-RolloutEvent([string] $RolloutId, [string[]] $EventType) {
        $query = @{}
        if ($EventType) { $query.EventType = $EventType }
        @(Get-FlagAudit @query | Where-Object RolloutId -EQ $RolloutId)
    }

    function Get-EventDetail($AuditEvent) { $AuditEvent.Details | ConvertFrom-Json -DateKind String }

    function Wait-Until([scriptblock] $Condition, [string] $Because, [int] $TimeoutSeconds = 30, [int] $IntervalMilliseconds = 100) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ($true) {
            $value = & $Condition
            if ($value) { return $value }
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting until $Because." }
            Start-Sleep -Milliseconds $IntervalMilliseconds
        }
    }

    function Step-Until([string] $RolloutId, [string[]] $Until, [int] $TimeoutSeconds = 30, [string] $User = 'scheduler') {
        <# Steps every 250 ms until a step's action is one of -Until; returns every step result, in order. #>
        $steps = [System.Collections.Generic.List[object]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ($true) {
            $step = Step-FlagRollout -RolloutId $RolloutId -User $User -WarningAction SilentlyContinue
            $steps.Add($step)
            if ("$($step.Action)" -in $Until) { return , $steps.ToArray() }
            if ([DateTime]::UtcNow -gt $deadline) { throw "No step of $RolloutId ended in $($Until -join '/') within $TimeoutSeconds s; the last one: $step" }
            Start-Sleep -Milliseconds 250
        }
    }

    function Get-CaseSnapshot($Case) {
        <# Every file of the case (ledger, spool, state) and the flag document, lock files aside. #>
        $files = @(Get-ChildItem -LiteralPath $Case.Root -Recurse -File -Force | Where-Object Name -NotLike '*.lock' | Sort-Object FullName)
        Get-FileSnapshot (@($Case.FlagFile) + @($files.FullName))
    }

    function Write-ChildScript([string] $Directory, [string] $Name, [string] $Text) {
        $path = Join-Path $Directory $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
    }

    function Wait-ErrorsCleared($Prometheus) {
        # A previous test's faulty feature leaves errors in the 5 s window for a few seconds.
        $null = Wait-PrometheusValue $Prometheus.BaseUri $script:ErrorQuery { param($v) $v[0] -eq 0 } -TimeoutSeconds 30
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
    foreach ($name in $script:savedCi.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedCi[$name]) }
}

Describe 'Progressive rollouts against a real Prometheus' -Tag Rollout {
    BeforeAll {
        $serverRoot = New-TempRoot 'pms-flags-rollout-'
        $flagFile = Join-Path $serverRoot 'feature_flags.json'
        [IO.File]::WriteAllText($flagFile, $script:InitialDocument)
        $backend = Start-BackendStandIn -FlagFile $flagFile -Flag $script:Flag -Environment staging
        $prometheus = Start-TestPrometheus -Directory $serverRoot -TargetUri $backend.BaseUri
        # rate() needs two samples in its window before it answers at all.
        $null = Wait-PrometheusValue $prometheus.BaseUri $script:ErrorQuery { param($v) $true } -TimeoutSeconds 30
        $null = Wait-PrometheusValue $prometheus.BaseUri $script:LatencyQuery { param($v) -not [double]::IsNaN($v[0]) } -TimeoutSeconds 30
        $prometheusUri = $prometheus.BaseUri
        $healthUrl = "$($backend.BaseUri)/health"
    }

    AfterAll {
        Stop-TestPrometheus $prometheus
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    BeforeEach {
        Set-BackendFault $backend $false
        Set-BackendHealth $backend $true
        $case = Initialize-RolloutCase -Root $serverRoot -FlagFile $flagFile
        Wait-ErrorsCleared $prometheus
    }

    AfterEach {
        Set-BackendFault $backend $false
        Set-BackendHealth $backend $true
    }

    It 'drives a healthy rollout to 100% with Start-FlagRollout; every stage and every guardrail evaluation is in the ledger' {
        $guardrails = @(
            New-FlagGuardrail -Name ErrorRate -PrometheusUrl $prometheusUri -Query $script:ErrorQuery -Operator GreaterThan -Threshold 1 -Severity Critical
            New-FlagGuardrail -Name P95Latency -PrometheusUrl $prometheusUri -Query $script:LatencyQuery -Operator GreaterThan -Threshold 2 -Severity Warning
            New-FlagGuardrail -Name BackendHealth -HealthUrl $healthUrl
        )
        $names = @('BackendHealth', 'ErrorRate', 'P95Latency')
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25, 50, 100 -BakeTime 00:00:01 -Guardrail $guardrails -Reason 'Gradual rollout with short bakes' -PollInterval 00:00:01 -Verbose 4>&1
        $clock.Stop()
        $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $results = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })

        $results.Count | Should -Be 1
        $state = $results[0]
        $state.Status | Should -Be 'Completed'
        $state.EndCause | Should -Be 'completed'
        $state.StageNumber | Should -Be 4
        $state.Percentage | Should -Be 100
        $clock.Elapsed | Should -BeGreaterOrEqual ([TimeSpan]::FromSeconds(4)) -Because 'four stages bake at least 1 s each'
        (Read-FlagDocument $flagFile).staging[$script:Flag] | Should -BeExactly $true   # the playbook's fully on
        (Invoke-RestMethod "$($backend.BaseUri)/_control/state").exposure | Should -Be 100

        $id = $state.RolloutId
        @(Get-RolloutEvent $id -EventType rollout_started).Count | Should -Be 1
        $advanced = @(Get-RolloutEvent $id -EventType rollout_stage_advanced)
        @($advanced.RolloutPercentage) | Should -Be @(5, 25, 50, 100)
        @($advanced | ForEach-Object { (Get-EventDetail $_).stage_number }) | Should -Be @(1, 2, 3, 4)
        $toggled = @(Get-RolloutEvent $id -EventType feature_flag_toggled)
        @($toggled.RolloutPercentage) | Should -Be @(5, 25, 50, 100)
        for ($i = 1; $i -lt 4; $i++) {
            ($advanced[$i].Timestamp - $toggled[$i - 1].Timestamp) | Should -BeGreaterOrEqual ([TimeSpan]::FromSeconds(1)) -Because "stage $i baked 1 s before stage $($i + 1)"
        }
        $completed = @(Get-RolloutEvent $id -EventType rollout_completed)
        $completed.Count | Should -Be 1
        (Get-EventDetail $completed[0]).guardrails.Count | Should -Be 3

        # Every evaluation the steps made (the engine narrates each measurement's evidence) is one guardrail_evaluated event.
        $evaluated = @(Get-RolloutEvent $id -EventType guardrail_evaluated)
        $measured = @($verbose | Where-Object { $_ -match '^(ErrorRate|P95Latency|BackendHealth) (healthy|BREACHED|pending|no data|error)' })
        $measured.Count | Should -BeGreaterOrEqual 12
        $evaluated.Count | Should -Be $measured.Count
        $evaluated.Count | Should -Be $state.EvaluationCount
        $evaluated | ForEach-Object { $_.Outcome | Should -Be 'healthy' }
        foreach ($percentage in 5, 25, 50, 100) {
            $atStage = @($evaluated | Where-Object RolloutPercentage -EQ $percentage)
            @($atStage | ForEach-Object { (Get-EventDetail $_).guardrail } | Sort-Object -Unique) | Should -Be $names -Because "every guardrail was evaluated at $percentage%"
        }
        foreach ($e in $evaluated) {
            $d = Get-EventDetail $e
            $d.status | Should -Be 'Healthy'
            if ($d.guardrail -eq 'ErrorRate') {
                $d.query | Should -Be $script:ErrorQuery
                $d.threshold | Should -Be 1
                [double]$d.series[0].value | Should -BeLessOrEqual 1
            }
        }
        # Each advance rests on a full set of evaluations made by the same step, at the stage it leaves.
        foreach ($a in $advanced | Select-Object -Skip 1) {
            $before = @(Get-FlagAudit | Where-Object Sequence -LT $a.Sequence | Select-Object -Last 3)
            @($before.EventType | Sort-Object -Unique) | Should -Be 'guardrail_evaluated'
            @($before | ForEach-Object { (Get-EventDetail $_).guardrail } | Sort-Object) | Should -Be $names
            @($before.RolloutPercentage | Sort-Object -Unique) | Should -Be $a.PreviousPercentage
            (Get-EventDetail $a).guardrails.Count | Should -Be 3
        }
        (Test-FlagAuditChain -Path $case.LedgerPath).Valid | Should -BeTrue
    }

    It 'rolls a faulty feature back automatically at the first stage where the breach shows: flag off first, evidence in the ledger' {
        # The faulty feature fails half its requests: 5 errors/s at 5%, 25/s at 25%. Only 25% crosses 8/s.
        $threshold = 8
        $guardrail = New-FlagGuardrail -Name ErrorRate -PrometheusUrl $prometheusUri -Query $script:ErrorQuery -Operator GreaterThan -Threshold $threshold -Severity Critical
        Set-BackendFault $backend $true
        # Watches Prometheus itself, every 50 ms, for the first answer above the threshold: when the breach became visible.
        $watcher = Start-ThreadJob -ArgumentList $prometheusUri, $script:ErrorQuery, $threshold -ScriptBlock {
            param($Uri, $Query, $Threshold)
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while ([DateTime]::UtcNow -lt $deadline) {
                $answer = Invoke-RestMethod "$Uri/api/v1/query?query=$([uri]::EscapeDataString($Query))" -TimeoutSec 5
                $values = @($answer.data.result | ForEach-Object { [double]$_.value[1] })
                if (@($values | Where-Object { $_ -gt $Threshold }).Count -gt 0) {
                    return [pscustomobject]@{ VisibleAt = [DateTimeOffset]::UtcNow; Value = $values[0] }
                }
                Start-Sleep -Milliseconds 50
            }
        }
        try {
            $state = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25, 50, 100 -BakeTime 00:00:06 -Guardrail $guardrail -Reason 'Rollout of a feature that turns out faulty' -PollInterval 00:00:01 -WarningVariable warnings 3>$null
            $visible = $watcher | Wait-Job -Timeout 60 | Receive-Job
        }
        finally {
            Set-BackendFault $backend $false
            $watcher | Remove-Job -Force
        }

        $state.Status | Should -Be 'RolledBack'
        $state.EndCause | Should -Be 'guardrail_breach'
        $state.StageNumber | Should -Be 2 -Because 'the breach shows at 25% and not at 5%'
        $state.DetectionToFlagOff | Should -Not -BeNullOrEmpty
        ($warnings -join "`n") | Should -BeLike '*rolled back*'
        (Read-FlagDocument $flagFile).staging[$script:Flag].enabled | Should -BeFalse
        (Get-Flag -Flag $script:Flag -Environment staging).On | Should -BeFalse
        (Get-FlagRollout -RolloutId $state.RolloutId).Status | Should -Be 'RolledBack'

        $id = $state.RolloutId
        @((Get-RolloutEvent $id -EventType rollout_stage_advanced).RolloutPercentage) | Should -Be @(5, 25) -Because 'nothing beyond the stage that breached'
        $atFirstStage = @(Get-RolloutEvent $id -EventType guardrail_evaluated | Where-Object RolloutPercentage -EQ 5)
        $atFirstStage.Count | Should -BeGreaterOrEqual 1 -Because 'stage 1 was evaluated before it advanced'
        $atFirstStage | ForEach-Object { $_.Outcome | Should -Be 'healthy' }
        $toStage2 = @(Get-RolloutEvent $id -EventType rollout_stage_advanced)[1]
        $atFirstStage[-1].Sequence | Should -BeLessThan $toStage2.Sequence -Because 'the healthy evaluations at 5% came before the advance to 25%'

        $breached = @(Get-RolloutEvent $id -EventType guardrail_breached)
        $breached.Count | Should -Be 1
        $breach = Get-EventDetail $breached[0]
        $breach.guardrail | Should -Be 'ErrorRate'
        $breach.severity | Should -Be 'Critical'
        $breach.action | Should -Be 'rollback'
        $breach.query | Should -Be $script:ErrorQuery
        $breach.threshold | Should -Be '> 8'
        [double]$breach.value | Should -BeGreaterThan $threshold
        $breach.stage_number | Should -Be 2
        @($breach.series).Count | Should -Be 1
        $breach.series[0] | Should -BeLike '{} = *'

        $rolledBack = @(Get-RolloutEvent $id -EventType rollout_rolled_back)
        $rolledBack.Count | Should -Be 1
        $rolledBack[0].Outcome | Should -Be 'rolled_back'
        $details = Get-EventDetail $rolledBack[0]
        $details.cause | Should -Be 'guardrail_breach'
        $details.stage_number | Should -Be 2
        $details.evidence[0].query | Should -Be $script:ErrorQuery
        $details.evidence[0].threshold | Should -Be $threshold
        [double]$details.evidence[0].series[0].value | Should -BeGreaterThan $threshold
        $details.verified | Should -BeTrue
        $details.detection_to_flag_off_ms | Should -Be ([long][Math]::Truncate($state.DetectionToFlagOff.TotalMilliseconds))

        # Flag off FIRST, then the records.
        $off = @(Get-RolloutEvent $id -EventType feature_flag_toggled | Where-Object NewState -EQ $false)
        $off.Count | Should -Be 1
        $off[0].Sequence | Should -BeLessThan $breached[0].Sequence
        $breached[0].Sequence | Should -BeLessThan $rolledBack[0].Sequence
        @(Get-RolloutEvent $id -EventType emergency_rollback).Outcome | Should -Be 'succeeded'
        (Test-FlagAuditChain -Path $case.LedgerPath).Valid | Should -BeTrue

        # The figures the lead asked for.
        $visible | Should -Not -BeNullOrEmpty -Because 'the watcher saw the error rate cross the threshold in Prometheus'
        $flagOffAt = [DateTimeOffset]::Parse($details.flag_off_at, [Globalization.CultureInfo]::InvariantCulture)
        $visibleToOff = [long]($flagOffAt - $visible.VisibleAt).TotalMilliseconds
        $figure = @(
            "Detection to flag off (rollout_rolled_back detection_to_flag_off_ms): $($details.detection_to_flag_off_ms) ms"
            "Breach visible in Prometheus (first query answer > $threshold, polled every 50 ms) to flag off: $visibleToOff ms"
            "Evaluation interval (Start-FlagRollout -PollInterval): 1 s; Prometheus scrape interval 1 s; query $($script:ErrorQuery) > $threshold"
            "Rolled back at stage $($details.stage_number) ($($details.percentage)%), measured value $($breach.value)"
        ) -join "`n"
        Write-Host $figure
        if ($env:PMS_FLAGS_FIGURES_DIR) {
            $null = New-Item -ItemType Directory -Force $env:PMS_FLAGS_FIGURES_DIR
            Set-Content -LiteralPath (Join-Path $env:PMS_FLAGS_FIGURES_DIR 'detection.txt') -Value $figure
        }
        # A figure, not a bound: how fast it came is printed above, never asserted.
        $flagOffAt | Should -BeGreaterThan $toStage2.Timestamp -Because 'the flag went off after stage 2 was applied'
    }

    It 'pauses on a warning-severity breach; Resume-FlagRollout continues with the remaining bake time and the rollout completes' {
        $bake = [TimeSpan]::FromSeconds(8)
        $guardrail = New-FlagGuardrail -Name ErrorRateWarning -PrometheusUrl $prometheusUri -Query $script:ErrorQuery -Operator GreaterThan -Threshold 1 -Severity Warning
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 100 -BakeTime $bake -Guardrail $guardrail -Reason 'warning pause' -NoWait
        $id = $started.RolloutId
        # The feature turns faulty 2 s into the bake (5 errors/s at 5%), so the pause keeps a clearly partial bake.
        $null = Wait-Until -Because '2 s of the bake have run' -Condition { ($started.BakeDueAt - [DateTimeOffset]::UtcNow) -le ($bake - [TimeSpan]::FromSeconds(2)) }
        Set-BackendFault $backend $true

        $steps = Step-Until $id -Until Paused, Advanced, Completed, RolledBack
        $paused = $steps[-1]
        $paused.Action | Should -Be 'Paused'
        $paused.Status | Should -Be 'Paused'
        $paused.StageNumber | Should -Be 1
        $paused.Guardrails[0].Status | Should -Be 'Breached'
        $frozen = $paused.State.RemainingBakeWhenPaused
        $frozen | Should -BeGreaterThan ([TimeSpan]::Zero)
        $frozen | Should -BeLessThan ($bake - [TimeSpan]::FromSeconds(2)) -Because 'the bake ran for 2 s before the fault, and the breach took time to show'
        $paused.State.PauseCause | Should -Be 'guardrail_breach'
        $value = (Read-FlagDocument $flagFile).staging[$script:Flag]
        $value.enabled | Should -BeTrue -Because 'a warning pauses; it does not roll back'
        $value.rollout_percentage | Should -Be 5
        $breach = Get-EventDetail (Get-RolloutEvent $id -EventType guardrail_breached)[0]
        $breach.action | Should -Be 'pause'
        $breach.severity | Should -Be 'Warning'
        (Get-EventDetail (Get-RolloutEvent $id -EventType rollout_paused)[0]).cause | Should -Be 'guardrail_breach'

        # The fault is fixed. While paused, the remaining bake time stands still and Step does nothing.
        Set-BackendFault $backend $false
        Wait-ErrorsCleared $prometheus
        (Get-FlagRollout -RolloutId $id).RemainingBakeWhenPaused | Should -Be $frozen
        $idle = Step-FlagRollout -RolloutId $id
        $idle.Action | Should -Be 'NoAction'
        $idle.Status | Should -Be 'Paused'
        $idle.RemainingBake | Should -Be $frozen

        $resumed = Resume-FlagRollout -RolloutId $id -Reason 'error rate back to zero'
        $resumed.Status | Should -Be 'Running'
        $resumedEvent = @(Get-RolloutEvent $id -EventType rollout_resumed)
        $resumedEvent.Count | Should -Be 1
        ($resumed.BakeDueAt - $resumedEvent[0].Timestamp) | Should -Be $frozen -Because 'the bake goes on from where it paused'
        (Get-EventDetail $resumedEvent[0]).remaining_bake | Should -Be $frozen.ToString('c')

        $steps = Step-Until $id -Until Advanced, Paused, RolledBack -TimeoutSeconds 20
        $steps[-1].Action | Should -Be 'Advanced'
        $advance = @(Get-RolloutEvent $id -EventType rollout_stage_advanced)[1]
        $delay = $advance.Timestamp - $resumedEvent[0].Timestamp
        $delay | Should -BeGreaterOrEqual $frozen -Because 'it advanced only after the remaining bake ran out'
        # The bake did not start again from zero: the due time after Resume is the resume plus what was left (asserted
        # above), and every step before the advance waited for that due time, never for more than was left.
        $steps[0..($steps.Count - 2)] | ForEach-Object {
            $_.Action | Should -Be 'Waiting'
            $_.RemainingBake | Should -BeGreaterThan ([TimeSpan]::Zero)
            $_.RemainingBake | Should -BeLessOrEqual $frozen
            ($_.At + $_.RemainingBake) | Should -BeGreaterOrEqual $resumed.BakeDueAt
        }

        $steps = Step-Until $id -Until Completed, Paused, RolledBack -TimeoutSeconds 20
        $steps[-1].Action | Should -Be 'Completed'
        (Get-FlagRollout -RolloutId $id).Status | Should -Be 'Completed'
        (Read-FlagDocument $flagFile).staging[$script:Flag] | Should -BeExactly $true   # the playbook's fully on
    }

    It 'continues, from this process, a rollout whose driving pwsh was killed mid-bake: right stage, no restart, no duplicate stage' {
        $driver = Write-ChildScript $case.Root 'driver.ps1' @'
param($ModulePath, $FlagFile, $LedgerPath, $PrometheusUri, $Query, $Flag)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path $LedgerPath
$guardrail = New-FlagGuardrail -Name ErrorRate -PrometheusUrl $PrometheusUri -Query $Query -Operator GreaterThan -Threshold 1
# After its first step it sleeps through the bake: that is where it gets killed.
Start-FlagRollout -Flag $Flag -Environment staging -Stages 5, 25, 50 -BakeTime 00:00:08 -Guardrail $guardrail -Reason 'driven by a pwsh that dies' -PollInterval 00:01:00 -User driver
'DRIVER FINISHED'
'@
        $child = Start-ChildPwsh -ScriptPath $driver -ArgumentList @($env:PMS_FLAGS_MODULE, $flagFile, $case.LedgerPath, $prometheusUri, $script:ErrorQuery, $script:Flag)
        try {
            # Stage 1 applied and its first evaluation recorded: the driver now sleeps in its bake.
            $null = Wait-Until -Because 'the driver applied stage 1 and evaluated it' -TimeoutSeconds 60 -Condition {
                if ($child.Process.HasExited) { throw "The driver exited early: $($child.Stdout.Result) $($child.Stderr.Result)" }
                try { $types = @(Get-FlagAudit).EventType } catch { $types = @() }
                ($types -contains 'feature_flag_toggled') -and ($types -contains 'guardrail_evaluated')
            }
            $child.Process.Kill()
            $child.Process.WaitForExit(10000) | Should -BeTrue
        }
        finally {
            if (-not $child.Process.HasExited) { $child.Process.Kill() }
        }
        $child.Stdout.Result | Should -Not -Match 'DRIVER FINISHED'

        $orphan = @(Get-FlagRollout -Flag $script:Flag -Environment staging -Active)
        $orphan.Count | Should -Be 1
        $orphan[0].Status | Should -Be 'Running'
        $orphan[0].StageNumber | Should -Be 1
        $orphan[0].StageApplied | Should -BeTrue
        $orphan[0].StartedBy | Should -Be 'driver'
        $id = $orphan[0].RolloutId
        $toggle = @(Get-RolloutEvent $id -EventType feature_flag_toggled)
        $toggle.Count | Should -Be 1
        $orphan[0].BakeDueAt | Should -Be ($toggle[0].Timestamp + [TimeSpan]::FromSeconds(8))

        # From here: first a wait (the bake is not over), by flag and environment as a scheduler would call it.
        $first = Step-FlagRollout -Flag $script:Flag -Environment staging -User scheduler
        $first.RolloutId | Should -Be $id
        $first.StageNumber | Should -BeIn 1, 2
        # Waiting while the bake runs, advancing once it is over: judged by the rollout's own due time, not by how fast
        # this machine got here.
        if ("$($first.Action)" -eq 'Waiting') {
            $first.RemainingBake | Should -BeGreaterThan ([TimeSpan]::Zero)
            $first.RemainingBake | Should -BeLessOrEqual ([TimeSpan]::FromSeconds(8))
            ($first.At + $first.RemainingBake) | Should -BeGreaterOrEqual $orphan[0].BakeDueAt
            $steps = Step-Until $id -Until Advanced, Paused, RolledBack, Completed -TimeoutSeconds 20
        }
        else {
            $first.Action | Should -Be 'Advanced'
            $first.At | Should -BeGreaterOrEqual $orphan[0].BakeDueAt
            $steps = @($first)
        }
        $advance = $steps[-1]
        $advance.Action | Should -Be 'Advanced'
        $advance.At | Should -BeGreaterOrEqual $orphan[0].BakeDueAt -Because 'it advanced only after the bake'
        $advance.StageNumber | Should -Be 2
        $advance.Percentage | Should -Be 25
        (Read-FlagDocument $flagFile).staging[$script:Flag].rollout_percentage | Should -Be 25

        @(Get-RolloutEvent $id -EventType rollout_started).Count | Should -Be 1
        @(Get-FlagRollout -Flag $script:Flag -Environment staging).Count | Should -Be 1 -Because 'no second rollout was started'
        $advanced = @(Get-RolloutEvent $id -EventType rollout_stage_advanced)
        @($advanced | ForEach-Object { (Get-EventDetail $_).stage_index }) | Should -Be @(0, 1)
        $advanced[0].UserId | Should -Be 'driver'
        $advanced[1].UserId | Should -Be 'scheduler' -Because 'this process made the advance'
        @((Get-RolloutEvent $id -EventType feature_flag_toggled).RolloutPercentage) | Should -Be @(5, 25)
        (Test-FlagAuditChain -Path $case.LedgerPath).Valid | Should -BeTrue
    }

    It 'two Step-FlagRollout processes at once, bake elapsed: exactly one advance' {
        # The guardrail is the backend's /health, held until both steppers are measuring it: the two steps provably
        # overlap, so the one that loses the claim must answer NoAction (Waiting would mean they ran one after the other).
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25, 50 -BakeTime 00:00:03 -Guardrail (New-FlagGuardrail -Name BackendHealth -HealthUrl "$($backend.BaseUri)/health" -Severity Warning) -Reason 'race' -NoWait
        $id = $started.RolloutId
        $stepper = Write-ChildScript $case.Root 'stepper.ps1' @'
param($ModulePath, $FlagFile, $LedgerPath, $RolloutId, $Ready, $Go, $Name)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path $LedgerPath
Set-Content -LiteralPath $Ready -Value 'ready'
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while (-not (Test-Path -LiteralPath $Go)) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no go signal' }; Start-Sleep -Milliseconds 5 }
$result = Step-FlagRollout -RolloutId $RolloutId -User $Name -WarningAction SilentlyContinue
"ACTION=$($result.Action)"
"STAGE=$($result.StageNumber)"
'@
        $go = Join-Path $case.Root 'go'
        $children = foreach ($name in 'stepper-a', 'stepper-b') {
            Start-ChildPwsh -ScriptPath $stepper -ArgumentList @($env:PMS_FLAGS_MODULE, $flagFile, $case.LedgerPath, $id, (Join-Path $case.Root "$name.ready"), $go, $name)
        }
        try {
            $null = Wait-Until -Because 'both steppers are ready and the bake of stage 1 is over' -TimeoutSeconds 60 -Condition {
                (Test-Path (Join-Path $case.Root 'stepper-a.ready')) -and (Test-Path (Join-Path $case.Root 'stepper-b.ready')) -and
                ([DateTimeOffset]::UtcNow -gt (Get-FlagRollout -RolloutId $id).BakeDueAt.AddMilliseconds(200))
            }
            $null = Invoke-RestMethod -Method Post "$($backend.BaseUri)/_control/health" -ContentType 'application/json' -Body '{ "healthy": true, "holdUntil": 2 }'
            Set-Content -LiteralPath $go -Value 'go'
            foreach ($child in $children) {
                if (-not $child.Process.WaitForExit(60000)) { throw 'a stepper did not finish in 60 s' }
            }
        }
        finally {
            foreach ($child in $children) { if (-not $child.Process.HasExited) { $child.Process.Kill() } }
        }
        $actions = foreach ($child in $children) {
            $child.Process.WaitForExit()
            $report = "exit $($child.Process.ExitCode)`n$($child.Stdout.Result)`n$($child.Stderr.Result)"
            $child.Process.ExitCode | Should -Be 0 -Because $report
            if ($child.Stdout.Result -notmatch 'ACTION=(\w+)') { throw "no action reported: $report" }
            $Matches[1]
        }
        @($actions | Where-Object { $_ -eq 'Advanced' }).Count | Should -Be 1 -Because "the actions were: $($actions -join ', ')"
        @($actions | Where-Object { $_ -ne 'Advanced' }) | Should -Be @('NoAction') -Because 'the step that lost the claim had measured the same stage at the same time'
        (Invoke-RestMethod "$($backend.BaseUri)/_control/state").healthReleasedTogether | Should -Be 2 -Because 'both steppers were evaluating the guardrail at once'

        $advanced = @(Get-RolloutEvent $id -EventType rollout_stage_advanced)
        @($advanced | ForEach-Object { (Get-EventDetail $_).stage_index }) | Should -Be @(0, 1) -Because 'stage 2 was claimed once'
        @((Get-RolloutEvent $id -EventType feature_flag_toggled).RolloutPercentage) | Should -Be @(5, 25)
        (Get-FlagRollout -RolloutId $id).StageNumber | Should -Be 2
        (Read-FlagDocument $flagFile).staging[$script:Flag].rollout_percentage | Should -Be 25
        (Test-FlagAuditChain -Path $case.LedgerPath).Valid | Should -BeTrue
    }

    It 'Start-FlagRollout fails closed: with no data from a guardrail whose no-data policy is not Pass, nothing starts or changes' {
        $down = "http://127.0.0.1:$(Get-FreeTcpPort)"
        $guardrail = New-FlagGuardrail -Name ErrorRate -PrometheusUrl $down -Query $script:ErrorQuery -Operator GreaterThan -Threshold 1
        $guardrail.NoData | Should -Be 'Pause'
        $nothing = New-FlagGuardrail -Name Empty -PrometheusUrl $prometheusUri -Query 'sum(rate(pms_no_such_metric_total[5s]))' -Operator GreaterThan -Threshold 1 -NoData Fail
        $before = Get-FileSnapshot -Path $flagFile, $case.LedgerPath

        { Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25 -BakeTime 0 -Guardrail $guardrail -Reason 'blind' -NoWait -ErrorAction Stop 3>$null } | Should -Throw -ErrorId "RolloutGuardrailNoData,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand"
        { Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25 -BakeTime 0 -Guardrail $nothing -Reason 'empty' -NoWait -ErrorAction Stop 3>$null } | Should -Throw -ErrorId "RolloutGuardrailNoData,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand"

        Get-FileSnapshot -Path $flagFile, $case.LedgerPath | Should -Be $before
        @(Get-FlagRollout -Flag $script:Flag -Environment staging).Count | Should -Be 0
    }

    It 'applies the Pass no-data policy explicitly: an unreachable source pauses even under Pass; Pass lets an empty answer through' {
        $down = "http://127.0.0.1:$(Get-FreeTcpPort)"
        $pass = New-FlagGuardrail -Name Blind -PrometheusUrl $down -Query $script:ErrorQuery -Operator GreaterThan -Threshold 1 -NoData Pass
        $a = Start-FlagRollout -Flag new_billing_engine -Environment staging -Stages 5, 25 -BakeTime 0 -Guardrail $pass -Reason 'pass, unreachable' -NoWait 3>$null
        $step = Step-FlagRollout -RolloutId $a.RolloutId 3>$null
        $step.Action | Should -Be 'Paused' -Because 'Pass covers an empty answer, not a source that cannot be asked'

        # Prometheus up, but the query matches nothing: an explicit pass under Pass (other policies do not even start).
        $nothing = 'sum(rate(pms_no_such_metric_total[5s]))'
        $emptyPass = New-FlagGuardrail -Name EmptyPass -PrometheusUrl $prometheusUri -Query $nothing -Operator GreaterThan -Threshold 1 -NoData Pass
        $d = Start-FlagRollout -Flag new_reports -Environment staging -Stages 5, 25 -BakeTime 0 -Guardrail $emptyPass -Reason 'empty, pass' -NoWait 3>$null
        $step = Step-FlagRollout -RolloutId $d.RolloutId 3>$null
        $step.Action | Should -Be 'Advanced'
        $step.Reason | Should -BeLike '*EmptyPass: no data, passed by policy*'
    }

    It 'Invoke-EmergencyRollback on a flag under rollout ends that rollout as RolledBack' {
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Guardrail (New-FlagGuardrail -Name BackendHealth -HealthUrl $healthUrl) -Reason 'to be cut short' -NoWait
        $rollback = Invoke-EmergencyRollback -Flag $script:Flag -Environment staging -Reason 'incident INC-7' -ApprovalTicket INC-7 -Force
        $rollback.Verified | Should -BeTrue
        (Read-FlagDocument $flagFile).staging[$script:Flag].enabled | Should -BeFalse

        $state = Get-FlagRollout -RolloutId $started.RolloutId
        $state.Status | Should -Be 'RolledBack'
        $state.EndCause | Should -Be 'emergency_rollback'
        $state.EndReason | Should -Be 'incident INC-7'
        @(Get-FlagRollout -Active).Count | Should -Be 0
        $ended = Get-EventDetail (Get-RolloutEvent $started.RolloutId -EventType rollout_rolled_back)[0]
        $ended.emergency_rollback_sequence | Should -Be $rollback.AuditSequence
        (Step-FlagRollout -RolloutId $started.RolloutId).Action | Should -Be 'NoAction'
        (Read-FlagDocument $flagFile).staging[$script:Flag].enabled | Should -BeFalse
    }

    It 'Stop-FlagRollout -Force aborts: the flag goes off and the rollout is Aborted' {
        $started = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'to be aborted' -NoWait
        (Read-FlagDocument $flagFile).staging[$script:Flag].rollout_percentage | Should -Be 5
        $stop = Stop-FlagRollout -RolloutId $started.RolloutId -Reason 'wrong feature' -Force
        $stop.Action | Should -Be 'RolledBack'
        $stop.Status | Should -Be 'Aborted'
        $stop.Percentage | Should -Be 0
        $stop.Rollback.Verified | Should -BeTrue
        (Read-FlagDocument $flagFile).staging[$script:Flag].enabled | Should -BeFalse
        $state = Get-FlagRollout -RolloutId $started.RolloutId
        $state.Status | Should -Be 'Aborted'
        $state.EndCause | Should -Be 'stopped'
        $ended = @(Get-RolloutEvent $started.RolloutId -EventType rollout_rolled_back)
        $ended.Count | Should -Be 1
        $ended[0].Outcome | Should -Be 'aborted'
        $ended[0].Reason | Should -Be 'wrong feature'
    }

    It 'Suspend-FlagRollout pauses, Get-FlagRollout -Active lists running and paused rollouts, and they pipe into Step-FlagRollout' {
        $a = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'a' -NoWait
        $b = Start-FlagRollout -Flag new_billing_engine -Environment staging -Stages 10, 50 -BakeTime 00:01:00 -Reason 'b' -NoWait
        @(Get-FlagRollout -Active).Count | Should -Be 2

        $suspended = Suspend-FlagRollout -Flag $script:Flag -Environment staging -Reason 'hold for the weekend'
        $suspended.RolloutId | Should -Be $a.RolloutId
        $suspended.Status | Should -Be 'Paused'
        $suspended.PauseCause | Should -Be 'manual'
        $suspended.RemainingBakeWhenPaused | Should -BeGreaterThan ([TimeSpan]::Zero)
        $suspended.RemainingBakeWhenPaused | Should -BeLessOrEqual ([TimeSpan]::FromMinutes(1))
        (Suspend-FlagRollout -RolloutId $a.RolloutId -Reason 'again').Status | Should -Be 'Paused'
        @(Get-RolloutEvent $a.RolloutId -EventType rollout_paused).Count | Should -Be 1 -Because 'suspending a paused rollout changes nothing'

        $active = @(Get-FlagRollout -Active)
        @($active.RolloutId | Sort-Object) | Should -Be @(@($a.RolloutId, $b.RolloutId) | Sort-Object)
        $steps = @(Get-FlagRollout -Active | Step-FlagRollout)
        $steps.Count | Should -Be 2
        ($steps | Where-Object RolloutId -EQ $a.RolloutId).Action | Should -Be 'NoAction'
        ($steps | Where-Object RolloutId -EQ $b.RolloutId).Action | Should -Be 'Waiting'

        $null = Stop-FlagRollout -RolloutId $b.RolloutId -Reason 'done' -Force
        @(Get-FlagRollout -Active).RolloutId | Should -Be $a.RolloutId
        @(Get-FlagRollout).Count | Should -Be 2
        (Get-FlagRollout -Flag new_billing_engine).Status | Should -Be 'Aborted'
    }

    It '-WhatIf prints the plan (timeline, minimum total duration, each guardrail now against its threshold) and changes nothing' {
        $seeded = Initialize-RolloutCase -Root $serverRoot -FlagFile $flagFile -SeedLedger
        $before = Get-CaseSnapshot $seeded
        $whatIf = @'
param($ModulePath, $FlagFile, $LedgerPath, $PrometheusUri, $Query, $HealthUrl, $Flag)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path $LedgerPath
$guardrails = @(
    New-FlagGuardrail -Name ErrorRate -PrometheusUrl $PrometheusUri -Query $Query -Operator GreaterThan -Threshold 1
    New-FlagGuardrail -Name BackendHealth -HealthUrl $HealthUrl -MaximumLatencySeconds 2 -Severity Warning
)
$out = Start-FlagRollout -Flag $Flag -Environment staging -Stages 5, 25, 50, 100 -BakeTime 00:00:30 -Guardrail $guardrails -Reason 'plan only' -WhatIf
"OUTPUT-COUNT=$(@($out).Count)"
'@
        $child = Invoke-ChildPwsh -Script $whatIf -WorkDirectory $serverRoot -ArgumentList @($env:PMS_FLAGS_MODULE, $flagFile, $seeded.LedgerPath, $prometheusUri, $script:ErrorQuery, $healthUrl, $script:Flag)
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $text = $child.Output
        $text | Should -Match ([regex]::Escape("What if: Performing the operation ""Start a rollout of $($script:Flag) in staging (now off at 0%):"))
        $text | Should -Match 'stage 1: 5% at \+0:00, bake 0:30'
        $text | Should -Match 'stage 2: 25% at \+0:30, bake 0:30'
        $text | Should -Match 'stage 3: 50% at \+1:00, bake 0:30'
        $text | Should -Match 'stage 4: 100% at \+1:30, bake 0:30'
        $text | Should -Match 'minimum total duration: 2:00'
        $text | Should -Match 'guardrail ErrorRate \[Critical\]: now 0 against > 1 \(Healthy\)'
        $text | Should -Match 'guardrail BackendHealth \[Warning\]: now 0\.\d+ against > 2 \(Healthy\)'
        $text | Should -Match 'OUTPUT-COUNT=0'
        Get-CaseSnapshot $seeded | Should -Be $before
        @(Get-FlagRollout).Count | Should -Be 0
    }

    Context 'Refusals change nothing' {
        BeforeEach {
            $case = Initialize-RolloutCase -Root $serverRoot -FlagFile $flagFile -SeedLedger
        }

        It '<Name>: <ErrorId>' -ForEach @(
            @{ Name = 'stages not increasing'; ErrorId = 'RolloutStagesNotIncreasing,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 50, 25 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a repeated stage'; ErrorId = 'RolloutStagesNotIncreasing,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25, 25 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a stage above 100'; ErrorId = 'RolloutStageOutOfRange,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 150 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a stage of 0'; ErrorId = 'RolloutStageOutOfRange,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 0, 50 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a negative stage'; ErrorId = 'RolloutStageOutOfRange,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages -5, 50 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a NaN stage'; ErrorId = 'RolloutStageOutOfRange,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, ([double]::NaN) -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'a negative bake time'; ErrorId = 'RolloutBakeTimeNegative,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime ([TimeSpan]::FromSeconds(-1)) -Reason 'r' -NoWait } }
            # -Preset is a ValidateSet: PowerShell refuses the value before the cmdlet runs, hence PowerShell's own ErrorId.
            @{ Name = 'an unknown guardrail preset'; ErrorId = 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand'
                Action = { New-FlagGuardrail -Preset Nope -PrometheusUrl $prometheusUri } }
            @{ Name = 'malformed PromQL, rejected by Prometheus'; ErrorId = 'PrometheusQueryRejected,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = {
                    $bad = New-FlagGuardrail -Name Broken -PrometheusUrl $prometheusUri -Query 'rate(http_requests_total{status="500"}[5m' -Operator GreaterThan -Threshold 1
                    Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 00:00:01 -Guardrail $bad -Reason 'r' -NoWait
                } }
            @{ Name = 'a second rollout of the same flag and environment'; ErrorId = 'RolloutAlreadyActive,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Setup = { $null = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'first' -NoWait }
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'second' -NoWait } }
            @{ Name = 'production without an approval ticket'; ErrorId = 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
                Action = { Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 25 -BakeTime 00:00:01 -Reason 'r' -NoWait } }
            @{ Name = 'Step-FlagRollout of an unknown rollout'; ErrorId = 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand'
                Action = { Step-FlagRollout -RolloutId ro-20240101T000000Z-000000 -ErrorAction Stop } }
            @{ Name = 'Resume-FlagRollout of an unknown rollout'; ErrorId = 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.ResumeFlagRolloutCommand'
                Action = { Resume-FlagRollout -RolloutId ro-20240101T000000Z-000000 -Reason 'r' -ErrorAction Stop } }
            @{ Name = 'Stop-FlagRollout of an unknown rollout'; ErrorId = 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.StopFlagRolloutCommand'
                Action = { Stop-FlagRollout -RolloutId ro-20240101T000000Z-000000 -Reason 'r' -Force -ErrorAction Stop } }
            @{ Name = 'Suspend-FlagRollout of an unknown rollout'; ErrorId = 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.SuspendFlagRolloutCommand'
                Action = { Suspend-FlagRollout -RolloutId ro-20240101T000000Z-000000 -Reason 'r' -ErrorAction Stop } }
            @{ Name = 'Step-FlagRollout of a flag without an active rollout'; ErrorId = 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand'
                Action = { Step-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -ErrorAction Stop } }
            @{ Name = 'Stop-FlagRollout of a rollout that has ended'; ErrorId = 'RolloutNotActive,PMS.Flags.Cmdlets.Commands.StopFlagRolloutCommand'
                Setup = {
                    $ended = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'first' -NoWait
                    $null = Stop-FlagRollout -RolloutId $ended.RolloutId -Reason 'stopped once' -Force
                }
                Action = { Stop-FlagRollout -RolloutId $ended.RolloutId -Reason 'stopped twice' -Force } }
            @{ Name = 'Resume-FlagRollout of a rollout that has ended'; ErrorId = 'RolloutNotActive,PMS.Flags.Cmdlets.Commands.ResumeFlagRolloutCommand'
                Setup = {
                    $ended = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 00:01:00 -Reason 'first' -NoWait
                    $null = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment staging -Reason 'incident' -Force
                }
                Action = { Resume-FlagRollout -RolloutId $ended.RolloutId -Reason 'back on' } }
        ) {
            # Dot-sourced, so that what Setup makes (a rollout id) is there for Action.
            if ($Setup) { . $Setup }
            $before = Get-CaseSnapshot $case
            $Action | Should -Throw -ErrorId $ErrorId
            Get-CaseSnapshot $case | Should -Be $before
            @(Get-SpoolFile $case).Count | Should -Be 0
        }
    }
}

Describe 'Progressive rollouts on the LaunchDarkly store' -Tag Rollout, LaunchDarkly {
    BeforeAll {
        $serverRoot = New-TempRoot 'pms-flags-ld-rollout-'
        $token = 'api-rollout-test-token'
        $secureToken = ConvertTo-SecureString $token -AsPlainText -Force
        $launchDarkly = Start-StandInProcess @('launchdarkly', '--token', $token)
        # The backend stand-in only lends its /health here; its own flag file is not the one being rolled out.
        $backendFlags = Join-Path $serverRoot 'backend_flags.json'
        [IO.File]::WriteAllText($backendFlags, $script:InitialDocument)
        $backend = Start-BackendStandIn -FlagFile $backendFlags -Flag $script:Flag -Environment staging
        $healthUrl = "$($backend.BaseUri)/health"
        $ldFlag = 'patient-portal-v2'   # off in production in the stand-in's seed

        function Get-StoredLaunchDarklyFlag([string] $Key) { Invoke-RestMethod "$($launchDarkly.BaseUri)/_control/flags/pms/$Key" }
    }

    AfterAll {
        Stop-StandIn $launchDarkly
        Stop-StandIn $backend
        if ($serverRoot -and (Test-Path -LiteralPath $serverRoot)) { Remove-Item -LiteralPath $serverRoot -Recurse -Force }
    }

    BeforeEach {
        $null = Invoke-RestMethod -Method Post "$($launchDarkly.BaseUri)/_control/reset"
        Set-BackendHealth $backend $true
        $case = Join-Path $serverRoot ('case-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $case 'state'
        $ledgerPath = Join-Path $case 'ledger.jsonl'
        $null = Connect-FlagLedger -Path $ledgerPath
        $store = Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $secureToken -BaseUri $launchDarkly.BaseUri -Environment production
    }

    AfterEach { Set-BackendHealth $backend $true }

    It 'completes a healthy rollout at 100% through LaunchDarkly with a -HealthUrl guardrail' {
        (Get-Flag -Flag $ldFlag -Environment production).On | Should -BeFalse
        $guardrail = New-FlagGuardrail -Name BackendHealth -HealthUrl $healthUrl
        $state = Start-FlagRollout -Flag $ldFlag -Environment production -Stages 10, 50, 100 -BakeTime 00:00:01 -Guardrail $guardrail -Reason 'Portal v2 rollout' -ApprovalTicket CHG-2024-17 -PollInterval 00:00:01
        $state.Status | Should -Be 'Completed'
        $state.Store | Should -Be $store.Identity
        $state.Store | Should -Be 'launchdarkly:pms'

        $flag = Get-Flag -Flag $ldFlag -Environment production
        $flag.On | Should -BeTrue
        $flag.Percentage | Should -Be 100
        (Get-StoredLaunchDarklyFlag $ldFlag).environments.production.on | Should -BeTrue
        $comments = @((Invoke-RestMethod "$($launchDarkly.BaseUri)/_control/audit").items.comment)
        $comments.Count | Should -Be 3 -Because 'one change per stage'
        $comments | ForEach-Object { $_ | Should -BeLike '*CHG-2024-17*' }

        $id = $state.RolloutId
        @((Get-RolloutEvent $id -EventType rollout_stage_advanced).RolloutPercentage) | Should -Be @(10, 50, 100)
        $evaluated = @(Get-RolloutEvent $id -EventType guardrail_evaluated)
        $evaluated.Count | Should -BeGreaterOrEqual 3
        $evaluated | ForEach-Object { $_.Outcome | Should -Be 'healthy'; $_.Store | Should -Be $store.Identity }
        @(Get-RolloutEvent $id -EventType rollout_completed).Count | Should -Be 1
        (Test-FlagAuditChain -Path $ledgerPath).Valid | Should -BeTrue
    }

    It 'turns the LaunchDarkly flag off on a critical breach (health URL answering 503)' {
        $guardrail = New-FlagGuardrail -Name BackendHealth -HealthUrl $healthUrl
        $started = Start-FlagRollout -Flag $ldFlag -Environment production -Stages 10, 50, 100 -BakeTime 00:01:00 -Guardrail $guardrail -Reason 'Portal v2 rollout' -ApprovalTicket CHG-2024-18 -NoWait
        (Get-Flag -Flag $ldFlag -Environment production).Percentage | Should -Be 10
        (Step-FlagRollout -RolloutId $started.RolloutId).Action | Should -Be 'Waiting'

        Set-BackendHealth $backend $false
        $null = Invoke-RestMethod -Method Delete "$($launchDarkly.BaseUri)/_control/requests"
        $step = Step-FlagRollout -RolloutId $started.RolloutId 3>$null
        $step.Action | Should -Be 'RolledBack'
        $step.Status | Should -Be 'RolledBack'
        $step.Rollback.Verified | Should -BeTrue
        $step.DetectionToFlagOff | Should -Not -BeNullOrEmpty

        (Get-StoredLaunchDarklyFlag $ldFlag).environments.production.on | Should -BeFalse
        (Get-Flag -Flag $ldFlag -Environment production).On | Should -BeFalse
        # Flag off first: the first request after the breach is the turnFlagOff. The engine then re-asserts "off" once the
        # end is recorded (in case an advance raced it); LaunchDarkly takes that as a no-op, so it has one change only.
        $requests = @((Invoke-RestMethod "$($launchDarkly.BaseUri)/_control/requests").items)
        $requests[0].method | Should -Be 'PATCH'
        $patches = @($requests | Where-Object method -EQ 'PATCH')
        $patches | ForEach-Object { ($_.body | ConvertFrom-Json).instructions.kind | Should -Be @('turnFlagOff') }
        ($patches[0].body | ConvertFrom-Json).comment | Should -BeLike "*CHG-2024-18*Automatic rollback of rollout $($started.RolloutId)*"
        $changes = @((Invoke-RestMethod "$($launchDarkly.BaseUri)/_control/audit").items)
        $changes.Count | Should -Be 2 -Because 'stage 1, then the rollback'
        $changes[1].changes.kind | Should -Be @('turnFlagOff')

        $breach = Get-EventDetail (Get-RolloutEvent $started.RolloutId -EventType guardrail_breached)[0]
        $breach.query | Should -Be $healthUrl
        $breach.result.reason | Should -BeLike 'HTTP 503*'
        $breach.result.status | Should -Be 'Breached'
        (Get-FlagRollout -RolloutId $started.RolloutId).Status | Should -Be 'RolledBack'
    }
}
