#Requires -Version 7.4
# Bad input: every refusal has its full, stable ErrorId, and leaves the flag document, the ledger and everything else
# in the sandbox byte-identical (lock files aside, which exist to be taken).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    function Get-SandboxSnapshot($Sandbox) {
        $files = Get-ChildItem -LiteralPath $Sandbox.Root -Recurse -File -Force | Where-Object Name -NotLike '*.lock' | Sort-Object FullName
        Get-FileSnapshot @($files.FullName)
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Refusals change nothing' -Tag Errors {
    BeforeEach {
        $sandbox = New-FlagSandbox -SeedLedger
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '<Name>: <ErrorId>' -ForEach @(
        # Percentages
        @{ Name = 'percentage 150'; ErrorId = 'PercentageOutOfRange,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 150 -Reason 'r' } }
        @{ Name = 'percentage -1'; ErrorId = 'PercentageOutOfRange,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage -1 -Reason 'r' } }
        @{ Name = 'percentage 100.001'; ErrorId = 'PercentageOutOfRange,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 100.001 -Reason 'r' } }
        @{ Name = 'percentage NaN'; ErrorId = 'PercentageNotANumber,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage ([double]::NaN) -Reason 'r' } }
        @{ Name = 'percentage +Infinity'; ErrorId = 'PercentageNotANumber,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage ([double]::PositiveInfinity) -Reason 'r' } }
        @{ Name = 'percentage 12.3456'; ErrorId = 'PercentageTooPrecise,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 12.3456 -Reason 'r' } }

        # The document
        @{ Name = 'malformed JSON (Set-FlagPercentage)'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": { "new_scheduler": true, ') }
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' } }
        @{ Name = 'malformed JSON (Disable-Flag, which never waits for the ledger)'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.DisableFlagCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": { "new_scheduler": true, } ') }
            Action = { Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -Force } }
        @{ Name = 'malformed JSON (Get-Flag)'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, 'not json at all') }
            Action = { Get-Flag } }
        @{ Name = 'a duplicated key'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": { "x": false, "x": true } }') }
            Action = { Set-FlagPercentage -Flag x -Environment staging -Percentage 5 -Reason 'r' } }
        @{ Name = 'a top level that is not an object'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '[ { "staging": { "x": false } } ]') }
            Action = { Enable-Flag -Flag x -Environment staging -Reason 'r' -Force } }
        @{ Name = 'a flag value that is neither boolean nor rollout object'; ErrorId = 'FlagValueUnsupported,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": { "x": "yes" } }') }
            Action = { Set-FlagPercentage -Flag x -Environment staging -Percentage 5 -Reason 'r' } }
        @{ Name = 'a missing document'; ErrorId = 'FlagDocumentNotFound,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { Remove-Item -LiteralPath $sandbox.FlagFile }
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -ErrorAction Stop } }
        @{ Name = 'Connect-FlagStore to a missing document'; ErrorId = 'FlagDocumentNotFound,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            Action = { Connect-FlagStore -Path (Join-Path $sandbox.Root 'missing.json') -ErrorAction Stop } }
        @{ Name = 'Connect-FlagStore to a malformed document'; ErrorId = 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            Setup = { [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": ') }
            Action = { Connect-FlagStore -Path $sandbox.FlagFile } }
        @{ Name = 'Connect-FlagStore -Environment unknown'; ErrorId = 'EnvironmentNotFound,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            Action = { Connect-FlagStore -Path $sandbox.FlagFile -Environment qa } }

        # Targets
        @{ Name = 'unknown environment'; ErrorId = 'EnvironmentNotFound,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment qa -Percentage 5 -Reason 'r' -ErrorAction Stop } }
        @{ Name = 'unknown flag (Set-FlagPercentage)'; ErrorId = 'FlagNotFound,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag no_such_flag -Environment staging -Percentage 5 -Reason 'r' -ErrorAction Stop } }
        @{ Name = 'unknown flag (Enable-Flag)'; ErrorId = 'FlagNotFound,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
            Action = { Enable-Flag -Flag no_such_flag -Environment staging -Reason 'r' -Force -ErrorAction Stop } }
        @{ Name = 'unknown flag (Get-Flag)'; ErrorId = 'FlagNotFound,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
            Action = { Get-Flag -Flag no_such_flag -Environment staging -ErrorAction Stop } }
        @{ Name = 'invalid wildcard pattern (Get-Flag)'; ErrorId = 'FlagPatternInvalid,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
            Action = { Get-Flag -Flag 'new[_' -Environment staging } }
        @{ Name = 'no environment and no default environment'; ErrorId = 'EnvironmentRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Percentage 5 -Reason 'r' } }
        @{ Name = 'empty flag key'; ErrorId = 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag '' -Environment staging -Percentage 5 -Reason 'r' } }

        # Change control
        @{ Name = 'production without -ApprovalTicket (Set-FlagPercentage)'; ErrorId = 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r' } }
        @{ Name = 'production without -ApprovalTicket (Enable-Flag)'; ErrorId = 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
            Action = { Enable-Flag -Flag new_reports -Environment production -Reason 'r' -Force } }
        @{ Name = 'production with a blank ticket'; ErrorId = 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket '  ' } }
        @{ Name = 'empty reason'; ErrorId = 'ReasonRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason '' } }
        @{ Name = 'whitespace reason'; ErrorId = 'ReasonRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason "  `t " } }
        @{ Name = 'empty reason (Disable-Flag)'; ErrorId = 'ReasonRequired,PMS.Flags.Cmdlets.Commands.DisableFlagCommand'
            Action = { Disable-Flag -Flag new_scheduler -Environment staging -Reason '' -Force } }
        @{ Name = 'whitespace reason (Invoke-EmergencyRollback)'; ErrorId = 'ReasonRequired,PMS.Flags.Cmdlets.Commands.InvokeEmergencyRollbackCommand'
            Action = { Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason ' ' -Force } }

        # The ledger
        @{ Name = 'unwritable ledger (Set-FlagPercentage)'; ErrorId = 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { $bad = New-UnwritableLedger $sandbox }
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Ledger $bad.Ledger } }
        @{ Name = 'unwritable ledger (Enable-Flag)'; ErrorId = 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
            Setup = { $bad = New-UnwritableLedger $sandbox }
            Action = { Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -Force -Ledger $bad.Ledger } }
        @{ Name = 'ledger with a torn last line'; ErrorId = 'LedgerTornTail,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { $bytes = [IO.File]::ReadAllBytes($sandbox.LedgerPath); [IO.File]::WriteAllBytes($sandbox.LedgerPath, $bytes[0..($bytes.Length - 20)]) }
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' } }
        @{ Name = 'ledger whose last line is not an audit event'; ErrorId = 'LedgerMalformed,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            Setup = { Add-Content -LiteralPath $sandbox.LedgerPath -Value '{"note":"pasted by hand"}' }
            Action = { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' } }
        @{ Name = 'Connect-FlagLedger under a regular file'; ErrorId = 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
            Setup = { Set-Content -LiteralPath (Join-Path $sandbox.Root 'blocker') -Value 'x' }
            Action = { Connect-FlagLedger -Path (Join-Path $sandbox.Root 'blocker/ledger.jsonl') } }
        @{ Name = 'Get-FlagAudit on a ledger that is not JSON'; ErrorId = 'LedgerMalformed,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand'
            Setup = {
                $notJson = Join-Path $sandbox.Root 'not-a-ledger.jsonl'
                Set-Content -LiteralPath $notJson -Value 'timestamp,event_type', '2025-01-15,feature_flag_toggled'
                $notJsonLedger = ($sandbox.Ledger.GetType())::new($notJson)
            }
            Action = { Get-FlagAudit -Ledger $notJsonLedger } }
        @{ Name = 'Test-FlagAuditChain -Path to a file that does not exist'; ErrorId = 'LedgerNotFound,PMS.Flags.Cmdlets.Commands.TestFlagAuditChainCommand'
            Action = { Test-FlagAuditChain -Path (Join-Path $sandbox.Root 'audti.jsonl') -ErrorAction Stop } }
        @{ Name = 'Get-FlagAudit -First 0'; ErrorId = 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand'
            Action = { Get-FlagAudit -First 0 } }

        # Export
        @{ Name = 'Export-FlagAudit onto an existing file without -Force'; ErrorId = 'ExportFileExists,PMS.Flags.Cmdlets.Commands.ExportFlagAuditCommand'
            Setup = { $existing = Join-Path $sandbox.Root 'report.json'; Set-Content -LiteralPath $existing -Value 'last quarter''s report' }
            Action = { Get-FlagAudit | Export-FlagAudit -Format Json -Path $existing } }
        @{ Name = 'Export-FlagAudit -Format Xml'; ErrorId = 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.ExportFlagAuditCommand'
            Action = { Get-FlagAudit | Export-FlagAudit -Format Xml -Path (Join-Path $sandbox.Root 'report.xml') } }
    ) {
        if ($Setup) { . $Setup }
        $before = Get-SandboxSnapshot $sandbox
        $flagBefore = [IO.File]::Exists($sandbox.FlagFile)
        { $null = & $Action } | Should -Throw -ErrorId $ErrorId
        Get-SandboxSnapshot $sandbox | Should -Be $before
        [IO.File]::Exists($sandbox.FlagFile) | Should -Be $flagBefore
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
    }

    It 'keeps the flag unchanged when the ledger is unwritable' {
        $bad = New-UnwritableLedger $sandbox
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Ledger $bad.Ledger } |
            Should -Throw -ErrorId 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $flag = Get-Flag -Flag new_scheduler -Environment staging
        $flag.On | Should -BeTrue
        $flag.Percentage | Should -Be 100
    }

    It 'keeps the original exception and the target on the error record' {
        $bad = New-UnwritableLedger $sandbox
        try { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Ledger $bad.Ledger; throw 'expected a failure' }
        catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be 'WriteError'
        $record.TargetObject | Should -Be $bad.Path
        $record.Exception.InnerException | Should -BeOfType [System.IO.IOException]
    }
}

Describe 'No store connected' -Tag Errors, Session {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'fails with NoFlagStore in a fresh runspace with no apps/backend/config/feature_flags.json' {
        $result = Invoke-InFreshRunspace -Location $sandbox.Root -Script @'
$outcome = foreach ($command in { Get-Flag }, { Set-FlagPercentage -Flag x -Environment staging -Percentage 5 -Reason 'r' }, { Disable-Flag -Flag x -Environment staging -Reason 'r' -Force }) {
    try { & $command; 'no error' } catch { $_.FullyQualifiedErrorId }
}
$outcome
'@
        $result.Output | Should -Be @(
            'NoFlagStore,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
            'NoFlagStore,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
            'NoFlagStore,PMS.Flags.Cmdlets.Commands.DisableFlagCommand'
        )
        [IO.File]::ReadAllText($sandbox.FlagFile) | Should -Be $script:SampleDocument
        Test-Path $sandbox.StateDir | Should -BeFalse
    }
}

Describe 'A rollback that cannot switch the flag off' -Tag Errors, Rollback {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'fails with the store''s error, leaves the document alone, and records the failed attempt' {
        [IO.File]::WriteAllText($sandbox.FlagFile, '{ "production": { "x": true, ')
        $document = Get-FileSnapshot $sandbox.FlagFile
        { Invoke-EmergencyRollback -Flag x -Environment production -Reason 'incident' -Force } |
            Should -Throw -ErrorId 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.InvokeEmergencyRollbackCommand'
        Get-FileSnapshot $sandbox.FlagFile | Should -Be $document
        $failed = @(Get-FlagAudit -EventType emergency_rollback)
        $failed.Count | Should -Be 1
        $failed[0].Outcome | Should -Be 'failed'
        ($failed[0].Details | ConvertFrom-Json).steps[0].status | Should -Be 'Failed'
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }
}
