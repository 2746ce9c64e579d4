<#
.SYNOPSIS
    The playbook's "Pre-Deployment Checklist" as the production readiness gate: the checklist bound to the rollout
    plan, the gate refusing while items are missing, the machine evidence (a completed rollout and a rollback drill of
    the flag in staging, an alert-rule file), every other item approved by someone other than the checklist's creator
    (four-eyes), then Test-FlagReadiness saying Ready and Start-FlagRollout in production passing the gate.
    For the notifications that go with a rollout, see notifications.ps1.
.EXAMPLE
    ./examples/checklist.ps1 -WorkDirectory ./out/demo
.EXAMPLE
    ./examples/checklist.ps1 -WorkDirectory ./out/demo -FlagFile ./apps/backend/config/feature_flags.json -RulesPath ./monitoring/alerts.yml
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    # The flag document; a sample one (the flag off in staging and production) is written when not given.
    [string] $FlagFile,
    # The Prometheus alert-rule file that backs "alerts-configured"; the playbook's two alerts are exported when not given.
    [string] $RulesPath,
    [string] $Flag = 'telehealth_appointments_enabled',
    [string] $ReleaseManager = 'release.manager@pms.example.com'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

if (-not $FlagFile) {
    $FlagFile = Join-Path $WorkDirectory 'feature_flags.json'
    "{ `"staging`": { `"$Flag`": false }, `"production`": { `"$Flag`": false } }" | Set-Content -LiteralPath $FlagFile -NoNewline
}
if (-not $RulesPath) {
    $RulesPath = Join-Path $WorkDirectory 'alerts.yml'
    $guardrails = 'HighErrorRate', 'SlowResponseTime' | ForEach-Object { New-FlagGuardrail -Preset $_ -PrometheusUrl http://prometheus.monitoring:9090 }
    $null = Export-FlagAlertRule -Guardrail $guardrails -Path $RulesPath -Force
}

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment production | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

# The approvals are for this plan: a rollout with other stages or another bake time finds them void.
$plan = @{ Stages = 5, 25, 50, 100; BakeTime = '00:30:00' }

Write-Host "== The release manager creates the playbook's checklist for $Flag in production, bound to the plan"
$created = New-FlagChecklist -Flag $Flag -Environment production -Template Playbook -Plan $plan -User $ReleaseManager
$created | Format-List Flag, Environment, Template, CreatedBy, FourEyes, PlanHash, Verdict | Out-String -Width 120 | Write-Host

Write-Host '== The gate refuses the production rollout while items are missing'
try {
    $null = Start-FlagRollout -Flag $Flag -Environment production @plan -Reason 'Release 4.2' -ApprovalTicket CHG-1042 -User $ReleaseManager -NoWait
    throw 'The readiness gate let an unready rollout through: is PMS_FLAGS_READINESS_GATE=off set?'
}
catch { Write-Host "Refused: $($_.FullyQualifiedErrorId)`n$($_.Exception.Message)`n" }

Write-Host '== Machine evidence from the ledger: a completed rollout and a rollback drill of the flag in staging'
Start-FlagRollout -Flag $Flag -Environment staging -Stages 50, 100 -BakeTime 0 -PollInterval 00:00:01 -Reason 'Staging validation' -User 'qa.lead@pms.example.com' |
    Format-Table | Out-String -Width 120 | Write-Host
Invoke-EmergencyRollback -Flag $Flag -Environment staging -Reason 'Rollback drill' -User 'oncall@pms.example.com' -Force |
    Format-Table | Out-String -Width 120 | Write-Host

Write-Host '== Every other item approved by the person responsible for it (never the checklist''s creator)'
$approvals = [ordered]@{
    'configuration-reviewed'      = @('tech.lead@pms.example.com', 'PR-4211 reviewed')
    'migrations-tested'           = @('dba@pms.example.com', 'alembic upgrade/downgrade run in staging, CHG-1042')
    'performance-assessed'        = @('perf@pms.example.com', 'Load test LT-77: p95 410 ms')
    'security-review'             = @('security@pms.example.com', 'SEC-88')
    'hipaa-compliance'            = @('privacy.officer@pms.example.com', 'PRIV-2024-31')
    'alerts-configured'           = @('sre.oncall@pms.example.com', $RulesPath)
    'rollback-plan-approved'      = @('tech.lead@pms.example.com', 'https://wiki.pms.example.com/rollback/telehealth')
    'notifications-prepared'      = @('comms@pms.example.com', 'Slack #deployments message drafted')
    'maintenance-window'          = @('ops@pms.example.com', 'Not required: no downtime')
    'backup-verified'             = @('dba@pms.example.com', 'Restore test BK-2024-11-30')
    'feature-docs-updated'        = @('docs.lead@pms.example.com', 'DOC-88')
    'api-docs-updated'            = @('docs.lead@pms.example.com', 'DOC-89')
    'training-materials-prepared' = @('training@pms.example.com', 'LMS course TEL-101')
    'support-briefed'             = @('support.lead@pms.example.com', 'Briefing 2024-12-02')
}
foreach ($item in $approvals.Keys) {
    $user, $evidence = $approvals[$item]
    Approve-FlagChecklistItem -Flag $Flag -Environment production -Item $item -Evidence $evidence -User $user -ApprovalTicket CHG-1042 |
        Format-Table Item, State, ApprovedBy -HideTableHeaders | Out-String -Width 120 | ForEach-Object Trim | Write-Host
}

Write-Host "`n== Test-FlagReadiness for the plan"
$report = Test-FlagReadiness -Flag $Flag -Environment production -Plan $plan
$report.Items | Format-Table Item, Evidence, State, ApprovedBy | Out-String -Width 120 | Write-Host
Write-Host "Verdict: $($report.Verdict)"
if (-not $report.Ready) { Write-Host "Missing: $($report.Missing -join ', ')"; exit 1 }

Write-Host "`n== The gate passes: the production rollout starts (Step-FlagRollout or a schedule advances it)"
Start-FlagRollout -Flag $Flag -Environment production @plan -Reason 'Release 4.2' -ApprovalTicket CHG-1042 -User $ReleaseManager -NoWait |
    Format-Table | Out-String -Width 120 | Write-Host
