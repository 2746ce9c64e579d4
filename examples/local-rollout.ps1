<#
.SYNOPSIS
    The playbook's Option B on a local flag document: 5% -> 25% -> 50% -> 100% in staging, an emergency rollback,
    then the audit trail and its hash-chain check. `build.ps1 Demo` runs it against a sample document under out/.
.EXAMPLE
    ./examples/local-rollout.ps1 -WorkDirectory ./out/demo
#>
param(
    # The module to import; by default the one already on PSModulePath.
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

# A sample apps/backend/config/feature_flags.json, as the playbook's Phase 1 describes it.
$flagFile = Join-Path $WorkDirectory 'feature_flags.json'
@'
{
  "staging": {
    "telehealth_appointments_enabled": false,
    "new_billing_engine": { "enabled": true, "rollout_percentage": 100, "owner": "billing" }
  },
  "production": {
    "telehealth_appointments_enabled": false,
    "new_billing_engine": false
  }
}
'@ | Set-Content -Path $flagFile -NoNewline

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $flagFile -Environment staging | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') | Out-Null

Write-Host "`n== Gradual rollout of telehealth_appointments_enabled in staging (playbook Step 3 and Step 5)"
$phase = 1
foreach ($percentage in 5, 25, 50, 100) {
    Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage $percentage `
        -Reason "Gradual rollout - Phase $phase ($percentage% of users)" -ApprovalTicket 'TICKET-12345' -User 'admin@pms.example.com' |
        Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $phase++
}

Write-Host '== Emergency rollback (playbook: Emergency Rollback, < 5 minutes)'
$rollback = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment staging `
    -Reason 'Error rate above 5% after full rollout' -ApprovalTicket 'INC-2001' -User 'oncall@pms.example.com' -Force
$rollback | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$rollback.Steps | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

Write-Host '== Flag state now'
Get-Flag -Environment staging | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

Write-Host '== Audit trail (playbook: Audit and Compliance)'
Get-FlagAudit -Flag telehealth_appointments_enabled | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

Write-Host '== Hash-chain check'
$chain = Test-FlagAuditChain
$chain | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
if (-not $chain.Valid -or -not $rollback.WithinSla) { exit 1 }
