<#
.SYNOPSIS
    The playbook's "Emergency Rollback" (< 5 minutes): the flag off first, verified, recorded, then the team told with
    the playbook's rollback message, built from the ledger. A notification that fails is a warning, never a delay.
.EXAMPLE
    ./examples/emergency-rollback.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -WebhookUri https://hooks.slack.com/services/T/B/x -Kind Slack
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $FlagFile,
    [string] $Flag = 'telehealth_appointments_enabled',
    [string] $Environment = 'production',
    # Where the team hears about it; without it nobody is told (the rollback is the same).
    [string] $WebhookUri,
    [ValidateSet('Slack', 'Teams', 'Webhook')] [string] $Kind = 'Slack'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment $Environment | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

$notify = @()
if ($WebhookUri) {
    $channel = @{ Uri = $WebhookUri; Name = 'incident channel'; TimeoutSec = 3 }
    $channel[$Kind] = $true
    $notify = @(New-FlagNotificationChannel @channel)
}

Write-Host "== Emergency rollback of $Flag in $Environment"
$rollback = Invoke-EmergencyRollback -Flag $Flag -Environment $Environment -Reason 'Error rate above 5% after rollout' `
    -ApprovalTicket 'INC-2001' -User 'oncall@pms.example.com' -Force -Notify $notify
$rollback | Format-Table -AutoSize | Out-String -Width 120 | Write-Host
$rollback.Steps | Format-Table -AutoSize | Out-String -Width 120 | Write-Host

Write-Host '== What the team was told (the playbook''s Rollback Notification, from the ledger)'
$message = New-FlagNotification -Template Rollback -Flag $Flag -Environment $Environment -NextSteps 'root-cause review before re-enabling'
Write-Host "Subject: $($message.Subject)`n$($message.Body)"

Write-Host '== The record'
Get-FlagAudit -Flag $Flag -Environment $Environment | Format-Table -AutoSize | Out-String -Width 160 | Write-Host
if (-not $rollback.Verified) { exit 1 }
