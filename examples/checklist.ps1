<#
.SYNOPSIS
    The playbook's "Pre-Deployment Checklist" as a gate: the checklist bound to the rollout plan, approvals by someone
    other than its author, machine-checked evidence, then the rollout. Uses New-FlagChecklist, Approve-FlagChecklistItem
    and Test-FlagReadiness (issue 16 part A, being written alongside this example). For the notifications that go with
    it, see notifications.ps1.
.EXAMPLE
    ./examples/checklist.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -RulesPath ./alerts.yml
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $FlagFile,
    [Parameter(Mandatory)] [string] $RulesPath,
    [string] $Flag = 'telehealth_appointments_enabled'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment production | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

New-FlagChecklist -Flag $Flag -Environment production -Template Playbook -User 'release.manager@pms.example.com'
Approve-FlagChecklistItem -Flag $Flag -Environment production -Item 'Alerts configured' -Evidence $RulesPath -User 'sre@pms.example.com'
Approve-FlagChecklistItem -Flag $Flag -Environment production -Item 'Security review completed' -Evidence 'SEC-88' -User 'security@pms.example.com'
Test-FlagReadiness -Flag $Flag -Environment production | Format-Table | Out-String -Width 120 | Write-Host
