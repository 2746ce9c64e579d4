<#
.SYNOPSIS
    The playbook's "Planned Rollback" with a database migration: the flag off first, a stabilization wait, then alembic
    downgraded (one revision by default), the revision verified, every step recorded in the ledger, with
    Invoke-PlannedRollback. Run it again after an interruption and it resumes at the first unfinished step.
    -Manual does the same step by step with Disable-Flag and Invoke-PmsMigration (no resume).
.EXAMPLE
    ./examples/planned-rollback-with-migration.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -ScriptLocation ./apps/backend/alembic.ini
.EXAMPLE
    ./examples/planned-rollback-with-migration.ps1 -WorkDirectory ./out/demo -FlagFile ./out/demo/feature_flags.json -ScriptLocation ./apps/backend/alembic.ini -MigrationTarget 0003 -AllowDataLoss -StabilizeFor 00:05:00
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $FlagFile,
    # The alembic project: its alembic.ini (or its script directory).
    [Parameter(Mandatory)] [string] $ScriptLocation,
    # -1 (the playbook's "alembic downgrade -1"), -N, a revision id or prefix, a branch label, or base.
    [string] $MigrationTarget = '-1',
    # How long the flag stays off before the downgrade; the playbook waits 5 minutes.
    [timespan] $StabilizeFor = '00:05:00',
    # From DATABASE_URL when not given; its password is never printed.
    [string] $ConnectionString,
    [string] $Flag = 'new_billing_engine',
    [string] $Environment = 'production',
    [string] $ApprovalTicket = 'CHG-77',
    # Consent to a downgrade that crosses a Destructive or Unknown revision (back the data up first).
    [switch] $AllowDataLoss,
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
$reason = "Planned rollback of $Flag, $ApprovalTicket"

Write-Host '== Where the database is now'
Get-PmsMigration @db | Format-List Current, Heads, IsAtHead | Out-String | Write-Host

if (-not $Manual) {
    $rollback = @{ Flag = $Flag; Environment = $Environment; MigrationTarget = $MigrationTarget; StabilizeFor = $StabilizeFor; Reason = $reason; ApprovalTicket = $ApprovalTicket; AllowDataLoss = $AllowDataLoss } + $db
    Write-Host "== The plan (-WhatIf: the revisions the downgrade crosses, nothing changes)"
    Invoke-PlannedRollback @rollback -WhatIf

    Write-Host "`n== Planned rollback of $Flag in ${Environment}: flag off, stabilize $StabilizeFor, downgrade to $MigrationTarget, verify"
    $result = Invoke-PlannedRollback @rollback -Force
    $result | Format-List Flag, Environment, Succeeded, Resumed, FlagOff, DatabaseRevision, TargetRevision | Out-String | Write-Host
    $result.Steps | Format-Table Step, Status, Duration, Detail | Out-String -Width 160 | Write-Host
    if (-not $result.Succeeded) { exit 1 }
}
else {
    Write-Host '== The same, step by step: flag off first, stabilize, then the downgrade'
    Disable-Flag -Flag $Flag -Environment $Environment -Reason $reason -ApprovalTicket $ApprovalTicket -Force | Format-Table | Out-String -Width 120 | Write-Host
    Start-Sleep -Duration $StabilizeFor
    Invoke-PmsMigration -Downgrade $MigrationTarget -Environment $Environment -Reason $reason -ApprovalTicket $ApprovalTicket -AllowDataLoss:$AllowDataLoss -Force @db |
        Format-List | Out-String | Write-Host
}

Write-Host '== Where the database is afterwards'
Get-PmsMigration @db | Format-List Current, Heads, IsAtHead | Out-String | Write-Host
Get-Flag -Flag $Flag -Environment $Environment | Format-Table | Out-String -Width 120 | Write-Host
