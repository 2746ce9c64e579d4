<#
.SYNOPSIS
    The playbook's "Communication Templates": the pre-rollout message with the real timeline, sent to chat; a rollout
    that annotates Grafana at every stage change; and the completion message, all recorded in the ledger.
.EXAMPLE
    ./examples/notifications.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -SlackUri $env:SLACK_WEBHOOK -GrafanaUri https://grafana.example.com -GrafanaToken (Read-Host -AsSecureString)
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $FlagFile,
    [Parameter(Mandatory)] [string] $SlackUri,
    [Parameter(Mandatory)] [string] $GrafanaUri,
    [Parameter(Mandatory)] [securestring] $GrafanaToken,
    [string] $Flag = 'new_reports',
    [string] $Environment = 'staging'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment $Environment | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

$slack = New-FlagNotificationChannel -Slack -Uri $SlackUri -Name '#pms-releases'
$grafana = New-FlagNotificationChannel -Grafana -Uri $GrafanaUri -Token $GrafanaToken -Name dashboards
$slack, $grafana | Format-Table | Out-String -Width 80 | Write-Host

Write-Host '== Pre-rollout notification'
$stages = 5, 25, 50, 100
$announce = New-FlagNotification -Template PreRollout -Flag $Flag -Environment $Environment -Stages $stages -BakeTime 00:30:00 `
    -DashboardUrl 'https://grafana.example.com/d/pms-rollout' -Contact 'on-call: +1 555 0100' -Format Markdown
Write-Host $announce.Body
$announce | Send-FlagNotification -Channel $slack | Format-Table | Out-String -Width 80 | Write-Host

Write-Host '== The rollout, annotating Grafana at every stage change (bake times shortened for the example)'
$rollout = Start-FlagRollout -Flag $Flag -Environment $Environment -Stages $stages -BakeTime 0 -Reason 'CHG-4711 reports' -ApprovalTicket CHG-4711 -NoWait -Notify $grafana
do { $step = Step-FlagRollout -RolloutId $rollout.RolloutId -Notify $grafana } while ($step.Action -eq 'Advanced' -or $step.Action -eq 'Waiting')
$step | Format-Table | Out-String -Width 80 | Write-Host

Write-Host '== Completion message'
New-FlagNotification -Template RolloutComplete -Flag $Flag -Environment $Environment | Send-FlagNotification -Channel $slack | Format-Table | Out-String -Width 80 | Write-Host

Write-Host '== What the ledger says was sent'
Get-FlagAudit -Flag $Flag -EventType notification_sent, notification_failed | Format-Table -AutoSize | Out-String -Width 160 | Write-Host
if ($step.Action -ne 'Completed') { exit 1 }
