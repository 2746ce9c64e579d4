<#
.SYNOPSIS
    The playbook's "Planned Rollback" with a database migration: the flag off first, then alembic downgraded to the
    revision before the feature, verified and recorded. Uses Invoke-PlannedRollback (being written alongside this
    example); the manual equivalent with the cmdlets that exist today follows it.
.EXAMPLE
    ./examples/planned-rollback-with-migration.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -ScriptLocation ./apps/backend/migrations -ToRevision a1b2c3
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $FlagFile,
    [Parameter(Mandatory)] [string] $ScriptLocation,
    [Parameter(Mandatory)] [string] $ToRevision,
    # From DATABASE_URL when not given; its password is never printed.
    [string] $ConnectionString,
    [string] $Flag = 'new_billing_engine',
    [string] $Environment = 'production',
    [switch] $Manual
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
Connect-FlagStore -Path $FlagFile -Environment $Environment | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null
$db = @{ ScriptLocation = $ScriptLocation }
if ($ConnectionString) { $db.ConnectionString = $ConnectionString }

Write-Host '== Where the database is now'
Get-PmsMigration @db | Format-List | Out-String | Write-Host

if (-not $Manual) {
    Write-Host "== Planned rollback of $Flag with a downgrade to $ToRevision"
    Invoke-PlannedRollback -Flag $Flag -Environment $Environment -ToRevision $ToRevision -Reason 'planned rollback CHG-77' -ApprovalTicket CHG-77 @db |
        Format-List | Out-String | Write-Host
}
else {
    Write-Host '== The same, step by step: flag off first, then the downgrade'
    Disable-Flag -Flag $Flag -Environment $Environment -Reason 'planned rollback CHG-77' -ApprovalTicket CHG-77 -Force | Format-Table | Out-String -Width 120 | Write-Host
    Invoke-PmsMigration -Downgrade $ToRevision -Environment $Environment -Reason 'planned rollback CHG-77' -ApprovalTicket CHG-77 -Force @db | Format-List | Out-String | Write-Host
}
Get-PmsMigration @db | Format-List | Out-String | Write-Host
