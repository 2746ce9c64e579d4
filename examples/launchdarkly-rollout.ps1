<#
.SYNOPSIS
    The playbook's "Option A: LaunchDarkly": the same guarded rollout and rollback against a LaunchDarkly project.
    The access token comes from LD_API_KEY (a pipeline secret) or -ApiKey as a SecureString; it is never printed.
.EXAMPLE
    $env:LD_API_KEY = '<from the vault>'; ./examples/launchdarkly-rollout.ps1 -WorkDirectory ./out/demo -ProjectKey pms
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $ProjectKey,
    # https://app.launchdarkly.com by default; a loopback stand-in in tests.
    [uri] $BaseUri,
    [string] $Flag = 'telehealth-appointments',
    [string] $Environment = 'staging'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
$connect = @{ LaunchDarkly = $true; ProjectKey = $ProjectKey; Environment = $Environment }
if ($BaseUri) { $connect.BaseUri = $BaseUri }
Connect-FlagStore @connect | Format-Table | Out-String -Width 120 | Write-Host
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

Write-Host "== Gradual rollout of $Flag in $Environment (playbook: 5% -> 25% -> 50% -> 100%)"
$rollout = Start-FlagRollout -Flag $Flag -Environment $Environment -Stages 5, 25, 50, 100 -BakeTime 0 -Reason 'CHG-5 telehealth' -ApprovalTicket CHG-5 -NoWait
do { $step = Step-FlagRollout -RolloutId $rollout.RolloutId } while ($step.Action -in 'Advanced', 'Waiting')
$step | Format-Table | Out-String -Width 120 | Write-Host
Get-Flag -Flag $Flag -Environment $Environment | Format-Table | Out-String -Width 120 | Write-Host

Write-Host '== Emergency rollback (the LaunchDarkly kill switch)'
$rollback = Invoke-EmergencyRollback -Flag $Flag -Environment $Environment -Reason 'error spike' -ApprovalTicket INC-5 -Force
$rollback | Format-Table | Out-String -Width 120 | Write-Host
if ($step.Action -ne 'Completed' -or -not $rollback.Verified) { exit 1 }
