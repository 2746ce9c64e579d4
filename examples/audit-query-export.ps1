<#
.SYNOPSIS
    The playbook's "Audit and Compliance": query the trail (by flag, environment, event type, user, time), check its
    hash chain, and export it for auditors as JSON and CSV with the playbook's field names.
.EXAMPLE
    ./examples/audit-query-export.ps1 -WorkDirectory ./out/demo -LedgerPath ./out/demo/audit.jsonl
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $LedgerPath,
    [string] $Environment = 'production',
    [datetime] $Since = [datetime]::UtcNow.AddDays(-90)
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagLedger -Path $LedgerPath | Out-Null

Write-Host "== Every change in $Environment since $($Since.ToString('u'))"
$events = @(Get-FlagAudit -Environment $Environment -Since $Since)
$events | Format-Table -AutoSize | Out-String -Width 160 | Write-Host

Write-Host '== Rollbacks only'
Get-FlagAudit -Environment $Environment -EventType emergency_rollback, rollout_rolled_back | Format-Table -AutoSize | Out-String -Width 160 | Write-Host

Write-Host '== Hash chain'
$chain = Test-FlagAuditChain
$chain | Format-List | Out-String | Write-Host

Write-Host '== Export for the auditors'
$json = $events | Export-FlagAudit -Format Json -Path (Join-Path $WorkDirectory "audit-$Environment.json") -Force
$csv = $events | Export-FlagAudit -Format Csv -Path (Join-Path $WorkDirectory "audit-$Environment.csv") -Force
"$($json.FullName)`n$($csv.FullName)" | Write-Host
if (-not $chain.Valid) { exit 1 }
