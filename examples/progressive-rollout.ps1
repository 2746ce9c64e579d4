<#
.SYNOPSIS
    The playbook's Step 4 and Step 5, automated: a progressive rollout 5 -> 25 -> 50 -> 100 % with short bake times
    and guardrails evaluated for real, then the same rollout against a faulty feature, rolled back automatically.
    `build.ps1 Demo` runs it against the PMS backend stand-in (its /health endpoint, and its metrics through Prometheus
    when Prometheus is installed), so it needs nothing but the .NET SDK.
.EXAMPLE
    ./examples/progressive-rollout.ps1 -WorkDirectory ./out/demo -BackendUri http://127.0.0.1:5000 -FlagFile ./out/demo/rollout_flags.json
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    # The running backend (stand-in or real) whose health and metrics follow the flag.
    [Parameter(Mandatory)] [string] $BackendUri,
    [Parameter(Mandatory)] [string] $FlagFile,
    [string] $PrometheusUri
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment production | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'rollout-audit.jsonl') | Out-Null

$guardrails = @(New-FlagGuardrail -HealthUrl "$BackendUri/health" -MaximumLatencySeconds 1)
if ($PrometheusUri) {
    # The playbook's error-rate alert, on a 10-second window so the demo reacts within seconds, not minutes.
    $guardrails += New-FlagGuardrail -Name ErrorRate -PrometheusUrl $PrometheusUri -Query 'sum(rate(http_requests_total{status=~"5.."}[10s]))' `
        -Operator GreaterThan -Threshold 0.05 -Severity Critical
}
Write-Host "`n== Guardrails, evaluated now (Test-FlagGuardrail)"
$guardrails | Test-FlagGuardrail | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

Write-Host '== The plan (-WhatIf)'
Start-FlagRollout -Flag telehealth_appointments_enabled -Stages 5, 25, 50, 100 -BakeTime 00:00:02 -Guardrail $guardrails `
    -Reason 'Progressive rollout of telehealth appointments' -ApprovalTicket 'TICKET-12345' -WhatIf

Write-Host "`n== Healthy rollout: 5 -> 25 -> 50 -> 100 %, 2 s bake per stage"
$healthy = Start-FlagRollout -Flag telehealth_appointments_enabled -Stages 5, 25, 50, 100 -BakeTime 00:00:02 -Guardrail $guardrails `
    -Reason 'Progressive rollout of telehealth appointments' -ApprovalTicket 'TICKET-12345' -PollInterval 00:00:01
$healthy | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Get-FlagAudit -Flag telehealth_appointments_enabled -EventType rollout_started, rollout_stage_advanced, guardrail_evaluated, rollout_completed |
    Select-Object Sequence, EventType, RolloutPercentage, Outcome, Reason | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

Write-Host '== Faulty feature: the backend fails the flagged requests; a critical guardrail rolls the flag back'
$null = Invoke-RestMethod -Method Post "$BackendUri/_control/health" -ContentType 'application/json' -Body '{"healthy":false}'
$faulty = Start-FlagRollout -Flag new_billing_engine -Stages 5, 50, 100 -BakeTime 00:00:02 -Guardrail $guardrails `
    -Reason 'Progressive rollout of the new billing engine' -ApprovalTicket 'TICKET-12346' -PollInterval 00:00:01 -WarningAction SilentlyContinue
$faulty | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Get-Flag -Flag new_billing_engine | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Get-FlagAudit -Flag new_billing_engine -EventType guardrail_breached, rollout_rolled_back, feature_flag_toggled |
    Select-Object Sequence, EventType, NewState, RolloutPercentage, Outcome, Reason | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$null = Invoke-RestMethod -Method Post "$BackendUri/_control/health" -ContentType 'application/json' -Body '{"healthy":true}'

$chain = Test-FlagAuditChain
$chain | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
if ($healthy.Status -ne 'Completed' -or $faulty.Status -ne 'RolledBack' -or -not $chain.Valid) { exit 1 }
