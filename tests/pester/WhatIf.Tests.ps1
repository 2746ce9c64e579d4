#Requires -Version 7.4
# -WhatIf on every changing cmdlet: the flag document and the ledger stay byte-identical, nothing is spooled, no
# object is written, and the message names the exact change (the target is resolved before ShouldProcess is asked).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe '-WhatIf changes nothing' -Tag WhatIf {
    BeforeEach {
        $sandbox = New-FlagSandbox -SeedLedger
        $export = Join-Path $sandbox.Root 'export.json'
        $watched = @($sandbox.FlagFile, $sandbox.LedgerPath, $export)
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '<Name>' -ForEach @(
        @{ Name = 'Set-FlagPercentage'; Action = { Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 50 -Reason 'r' -WhatIf } }
        @{ Name = 'Set-FlagPercentage in production with a ticket'; Action = { Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket 'T-1' -WhatIf } }
        @{ Name = 'Set-FlagPercentage with -Force'; Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Force -WhatIf } }
        @{ Name = 'Set-FlagPercentage on piped flags'; Action = { Get-Flag -Environment staging | Set-FlagPercentage -Percentage 50 -Reason 'r' -WhatIf } }
        @{ Name = 'Enable-Flag'; Action = { Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -WhatIf } }
        @{ Name = 'Disable-Flag'; Action = { Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -WhatIf } }
        @{ Name = 'Disable-Flag with -Force'; Action = { Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -Force -WhatIf } }
        @{ Name = 'Invoke-EmergencyRollback'; Action = { Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'r' -WhatIf } }
        @{ Name = 'Invoke-EmergencyRollback with -Force'; Action = { Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'r' -Force -WhatIf } }
        @{ Name = 'Export-FlagAudit'; Action = { Get-FlagAudit | Export-FlagAudit -Format Json -Path $export -WhatIf } }
        @{ Name = 'Export-FlagAudit -Force over an existing file'; Setup = { Set-Content -LiteralPath $export -Value 'keep me' }; Action = { Get-FlagAudit | Export-FlagAudit -Format Csv -Path $export -Force -WhatIf } }
        @{ Name = '$WhatIfPreference = $true'; Action = { $WhatIfPreference = $true; Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r'; Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -Force } }
    ) {
        if ($Setup) { . $Setup }
        $before = Get-FileSnapshot $watched
        $output = @(& $Action 6>$null)
        $output.Count | Should -Be 0
        Get-FileSnapshot $watched | Should -Be $before
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
    }

    It 'does not create the default ledger when none is connected' {
        $result = Invoke-InFreshRunspace -Location $sandbox.Root -ArgumentList $sandbox.FlagFile -Script @'
param($flagFile)
$null = Connect-FlagStore -Path $flagFile
Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -WhatIf
Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'r' -WhatIf
'@
        $result.Output.Count | Should -Be 0
        $result.Error.Count | Should -Be 0
        Test-Path (Join-Path $sandbox.StateDir 'audit.jsonl') | Should -BeFalse
    }

    It '-WhatIf:$false overrides $WhatIfPreference' {
        $record = & { $WhatIfPreference = $true; Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -WhatIf:$false }
        $record.Percentage | Should -Be 5
    }

    It 'still refuses bad input under -WhatIf' {
        $before = Get-FileSnapshot $sandbox.FlagFile, $sandbox.LedgerPath
        { Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r' -WhatIf } |
            Should -Throw -ErrorId 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        { Set-FlagPercentage -Flag no_such_flag -Environment staging -Percentage 5 -Reason 'r' -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'FlagNotFound,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        Get-FileSnapshot $sandbox.FlagFile, $sandbox.LedgerPath | Should -Be $before -Because 'new_reports, every other flag and the ledger are unchanged'
    }
}

Describe '-WhatIf names the change' -Tag WhatIf {
    BeforeAll { $sandbox = New-FlagSandbox -NoConnect }
    AfterAll { Remove-FlagSandbox $sandbox }

    It 'prints the target and the before -> after state for each cmdlet' {
        # "What if:" goes to the host, not to a stream, so read it from a child pwsh's standard output.
        $export = Join-Path $sandbox.Root 'x.json'
        $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $sandbox.LedgerPath, $export -Script @'
param($ModulePath, $FlagFile, $LedgerPath, $Export)
$ErrorActionPreference = 'Stop'
$env:PMS_FLAGS_STATE_DIR = Join-Path (Split-Path $FlagFile) 'state'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path $LedgerPath
Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 50 -Reason 'r' -WhatIf
Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 10 -Reason 'r' -WhatIf
Enable-Flag -Flag patient_portal_v2 -Environment staging -Reason 'r' -WhatIf
Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -WhatIf
Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'r' -WhatIf
$null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'seed'
Get-FlagAudit | Export-FlagAudit -Format Json -Path $Export -WhatIf
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $store = "LocalFile:$($sandbox.FlagFile)"
        $text = $result.Output -replace '\r?\n\s*', ' '   # the host wraps long lines
        $text | Should -BeLike "*What if: Performing the operation `"on at 10% -> on at 50%`" on target `"new_billing_engine in staging ($store)`".*"
        $text | Should -BeLike "*What if: Performing the operation `"on at 10% -> on at 10% (already so: no change)`" on target `"new_billing_engine in staging ($store)`".*"
        $text | Should -BeLike "*What if: Performing the operation `"off at 30% -> on at 30%`" on target `"patient_portal_v2 in staging ($store)`".*"
        $text | Should -BeLike "*What if: Performing the operation `"on at 100% -> off at 0%`" on target `"new_scheduler in staging ($store)`".*"
        $text | Should -BeLike "*What if: Performing the operation `"Emergency rollback: switch the flag off (now on), record it, verify it`" on target `"patient_portal_v2 in production ($store)`".*"
        $text | Should -BeLike "*What if: Performing the operation `"Export 1 audit event(s) as Json`" on target `"$export`".*"
        Test-Path $export | Should -BeFalse
    }
}
