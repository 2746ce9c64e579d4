#Requires -Version 7.4
# The first hour of a careful operator (issue 12): each numbered finding, met the way an operator would meet it.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    function Get-SandboxSnapshot($Sandbox) {
        $files = Get-ChildItem -LiteralPath $Sandbox.Root -Recurse -File -Force | Where-Object Name -NotLike '*.lock' | Sort-Object FullName
        Get-FileSnapshot @($files.FullName)
    }

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText)
    }

    function Assert-FitsEightyColumns {
        <#
        The default table of $InputObject rendered at 80 columns: one header line with every label, one line per object
        (nothing wrapped onto a second line), no line wider than 80, and each expected value shown in full on its row.
        #>
        param([object[]] $InputObject, [string[]] $Label, [string[][]] $Expected = @())
        $text = $InputObject | Out-String -Width 80
        $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
        $lines.Count | Should -Be ($InputObject.Count + 2) -Because "one header, one rule and one line per object:`n$text"
        foreach ($line in $lines) { $line.Length | Should -BeLessOrEqual 80 -Because "'$line' must fit 80 columns" }
        ($lines[0] -split '\s+' | Where-Object { $_ }) | Should -Be $Label -Because "no column may be dropped:`n$text"
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            foreach ($value in $Expected[$i]) { $lines[$i + 2] | Should -BeLike "*$value*" -Because 'a value must not be cut' }
        }
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe '1. A failed Connect cannot send the next change elsewhere' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Connect-FlagStore to a malformed document clears the default: the next change is StoreNotConnected and a.json is untouched' {
        $other = Join-Path $sandbox.Root 'b.json'
        [IO.File]::WriteAllText($other, '{ "staging": { "new_scheduler": true, ')
        $before = Get-SandboxSnapshot $sandbox
        { Connect-FlagStore -Path $other } | Should -Throw -ErrorId 'FlagDocumentMalformed,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'meant for b.json' } |
            Should -Throw -ErrorId 'StoreNotConnected,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        { Get-Flag } | Should -Throw -ErrorId 'StoreNotConnected,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'Connect-FlagStore to a missing document clears the default too, and -Store still works' {
        $store = $sandbox.Store
        Connect-FlagStore -Path (Join-Path $sandbox.Root 'missing.json') -ErrorAction SilentlyContinue
        { Disable-Flag -Flag new_scheduler -Environment staging -Reason 'r' -Force } |
            Should -Throw -ErrorId 'StoreNotConnected,PMS.Flags.Cmdlets.Commands.DisableFlagCommand'
        (Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'explicit store' -Store $store).Percentage | Should -Be 5
    }

    It 'Connect-FlagLedger to a torn ledger clears the default: the next change is LedgerNotConnected and nothing is written' {
        $torn = Join-Path $sandbox.Root 'torn.jsonl'
        $bytes = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        [IO.File]::WriteAllBytes($torn, $bytes[0..($bytes.Length - 20)])
        $before = Get-SandboxSnapshot $sandbox
        { Connect-FlagLedger -Path $torn } | Should -Throw -ErrorId 'LedgerTornTail,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'meant for torn.jsonl' } |
            Should -Throw -ErrorId 'LedgerNotConnected,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        { Get-FlagAudit } | Should -Throw -ErrorId 'LedgerNotConnected,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
    }

    It 'Connect-FlagLedger to a mistyped file name warns that it created a NEW, empty ledger' {
        $typo = Join-Path $sandbox.Root 'audit/audti.jsonl'
        $ledger = Connect-FlagLedger -Path $typo -WarningVariable warnings 3>$null
        $ledger.Path | Should -Be $typo
        ($warnings -join "`n") | Should -BeLike "*'$typo'*NEW, empty ledger*"
        Test-Path -LiteralPath $typo -PathType Leaf | Should -BeTrue
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -WarningVariable again 3>$null
        $again.Count | Should -Be 0 -Because 'an existing ledger is not new'
    }

    It 'Connect-FlagLedger into a folder that does not exist is LedgerFolderNotFound, creates nothing and clears the default' {
        $before = Get-SandboxSnapshot $sandbox
        $missing = Join-Path $sandbox.Root 'adit/ledger.jsonl'
        { Connect-FlagLedger -Path $missing -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerFolderNotFound,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        Test-Path -LiteralPath (Split-Path $missing) | Should -BeFalse
        { Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -Force } |
            Should -Throw -ErrorId 'LedgerNotConnected,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }
}

Describe '2. Reads agree with writes' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'a document with <Name> is refused by Get-Flag with the same ErrorId and position as by Set-FlagPercentage and Disable-Flag' -ForEach @(
        @{ Name = 'a comment'; Document = "{`n  // staging flags`n  `"staging`": { `"x`": true }`n}" }
        @{ Name = 'a trailing comma'; Document = "{ `"staging`": { `"x`": true, } }" }
        @{ Name = 'single quotes'; Document = "{ 'staging': { 'x': true } }" }
        @{ Name = 'an unquoted key'; Document = "{ staging: { `"x`": true } }" }
        @{ Name = 'a duplicated key'; Document = "{ `"staging`": { `"x`": true, `"x`": false } }" }
    ) {
        [IO.File]::WriteAllText($sandbox.FlagFile, $Document)
        $before = Get-SandboxSnapshot $sandbox
        $messages = foreach ($action in { Get-Flag }, { Get-Flag -Flag x -Environment staging }, { Set-FlagPercentage -Flag x -Environment staging -Percentage 5 -Reason r },
            { Disable-Flag -Flag x -Environment staging -Reason r -Force }) {
            try { & $action; throw 'expected a refusal' }
            catch {
                $_.FullyQualifiedErrorId | Should -BeLike 'FlagDocumentMalformed,*'
                $_.Exception.Message
            }
        }
        $messages[0] | Should -Match 'line \d+, position \d+'
        $messages | Sort-Object -Unique | Should -HaveCount 1 -Because 'every path names the same fault at the same place'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'skips a top-level "_meta" and other non-environment keys on read, says so under -Verbose, and keeps them on write' {
        $document = @'
{
  "_meta": { "owner": "platform", "reviewed": "2025-01-15" },
  "$schema": "./flags.schema.json",
  "version": 3,
  "staging": { "x": false },
  "production": { "x": false }
}
'@
        [IO.File]::WriteAllText($sandbox.FlagFile, $document)
        $verbose = Get-Flag -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @(Get-Flag).Environment | Should -Be @('staging', 'production')
        ($verbose.Message -join "`n") | Should -BeLike "*Skipped top-level key(s) '_meta', '`$schema', 'version'*"
        { Get-Flag -Environment _meta -ErrorAction Stop } | Should -Throw -ErrorId 'EnvironmentNotFound,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
        $null = Set-FlagPercentage -Flag x -Environment staging -Percentage 30 -Reason 'with _meta'
        [IO.File]::ReadAllText($sandbox.FlagFile) | Should -Be ($document.Replace('"staging": { "x": false }', '"staging": { "x": { "enabled": true, "rollout_percentage": 30 } }'))
    }
}

Describe '6. The document after a rollout is the playbook''s' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '5 -> 25 -> 50 -> 100 ends at true; an emergency rollback writes false; Enable-Flag restores the last percentage from the ledger' {
        foreach ($pct in 5, 25, 50) { $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage $pct -Reason "phase $pct" -ApprovalTicket T-1 }
        (Read-FlagDocument $sandbox.FlagFile).production.telehealth_appointments_enabled.rollout_percentage | Should -Be 50
        $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 100 -Reason 'GA' -ApprovalTicket T-1
        (Read-FlagDocument $sandbox.FlagFile).production.telehealth_appointments_enabled | Should -BeExactly $true

        $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 25 -Reason 'back to 25' -ApprovalTicket T-1
        $null = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'incident' -Force
        (Read-FlagDocument $sandbox.FlagFile).production.telehealth_appointments_enabled | Should -BeExactly $false
        $off = Get-Flag -Flag telehealth_appointments_enabled -Environment production
        $off.On | Should -BeFalse
        $off.Percentage | Should -Be 0

        $on = Enable-Flag -Flag telehealth_appointments_enabled -Environment production -Reason 'fix deployed' -ApprovalTicket T-2 -Force
        $on.Percentage | Should -Be 25
        (Read-FlagDocument $sandbox.FlagFile).production.telehealth_appointments_enabled.rollout_percentage | Should -Be 25
    }

    It '0% on a plain true writes false; an object with keys of its own keeps them' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 0 -Reason 'zero'
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler | Should -BeExactly $false
        $null = Disable-Flag -Flag new_billing_engine -Environment staging -Reason 'off' -Force
        $billing = (Read-FlagDocument $sandbox.FlagFile).staging.new_billing_engine
        $billing.owner | Should -Be 'billing'
        $billing.enabled | Should -BeFalse
        $null = Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 100 -Reason 'full' -ApprovalTicket T-3
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2 | Should -BeExactly $true
    }

    It 'Disable-Flag on a flag that is already off changes no byte' {
        $before = Get-FileSnapshot $sandbox.FlagFile
        $record = Disable-Flag -Flag new_reports -Environment production -Reason 'already off' -Force
        $record.Changed | Should -BeFalse
        Get-FileSnapshot $sandbox.FlagFile | Should -Be $before
    }
}

Describe '3. Per-record refusals do not stop a pipeline' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Get-Flag | Set-FlagPercentage applies every staging flag and refuses each production flag on its own' {
        $results = Get-Flag | Set-FlagPercentage -Percentage 40 -Reason 'mixed pipeline' -ErrorVariable refusals -ErrorAction SilentlyContinue
        @($results | Where-Object Environment -EQ 'staging').Count | Should -Be 4
        @($results | Where-Object Environment -EQ 'production').Count | Should -Be 0
        $refusals.Count | Should -Be 4
        $refusals.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $document = Read-FlagDocument $sandbox.FlagFile
        $document.staging.new_scheduler.rollout_percentage | Should -Be 40
        $document.production.patient_portal_v2.rollout_percentage | Should -Be 25
    }

    It '-ErrorAction Stop stops at the first refusal, before any later record' {
        $flags = @(Get-Flag -Environment production -Flag new_reports) + @(Get-Flag -Environment staging -Flag new_scheduler)
        { $flags | Set-FlagPercentage -Percentage 40 -Reason 'stop at first' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        (Get-Flag -Flag new_scheduler -Environment staging).Percentage | Should -Be 100
    }
}

Describe '4. PowerShell conventions' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '<Command> -Force -Confirm still asks (and changes nothing when it cannot ask)' -ForEach @(
        @{ Command = 'Set-FlagPercentage'; Line = 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason r -Force' }
        @{ Command = 'Enable-Flag'; Line = 'Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason r -Force' }
        @{ Command = 'Disable-Flag'; Line = 'Disable-Flag -Flag new_scheduler -Environment staging -Reason r -Force' }
        @{ Command = 'Invoke-EmergencyRollback'; Line = 'Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason r -Force' }
    ) {
        $before = Get-SandboxSnapshot $sandbox
        # A runspace without a host cannot prompt: a prompt shows as a host error, and -Force alone goes through.
        $script = @"
param(`$flagFile, `$ledgerPath)
`$null = Connect-FlagStore -Path `$flagFile
`$null = Connect-FlagLedger -Path `$ledgerPath
try { $Line -Confirm; 'changed without asking' } catch { 'asked: ' + `$_.FullyQualifiedErrorId }
"@
        $result = Invoke-InFreshRunspace -Location $sandbox.Root -Script $script -ArgumentList $sandbox.FlagFile, $sandbox.LedgerPath
        $result.Output[-1] | Should -BeLike 'asked: *'
        Get-SandboxSnapshot $sandbox | Should -Be $before
        $forced = Invoke-InFreshRunspace -Location $sandbox.Root -Script ($script -replace ' -Confirm', '') -ArgumentList $sandbox.FlagFile, $sandbox.LedgerPath
        $forced.Output[-1] | Should -Not -BeLike 'asked: *'
    }

    It 'Stop-FlagRollout -WhatIf names the rollout it resolved; a missing one is RolloutNotFound even under -WhatIf' {
        $state = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 01:00:00 -Reason 'named' -NoWait 3>$null
        # -WhatIf writes to the host, not to a stream: a transcript sees what the operator sees.
        $transcript = Join-Path $sandbox.Root 'whatif.txt'
        $null = Start-Transcript -LiteralPath $transcript
        try { Stop-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Reason 'preview' -WhatIf }
        finally { $null = Stop-Transcript }
        $whatIf = Get-Content -Raw -LiteralPath $transcript
        $whatIf | Should -BeLike "*rollout $($state.RolloutId) of telehealth_appointments_enabled in staging*"
        $before = Get-SandboxSnapshot $sandbox
        { Stop-FlagRollout -Flag new_scheduler -Environment staging -Reason 'none' -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.StopFlagRolloutCommand'
        { Suspend-FlagRollout -RolloutId 'ro-20000101T000000Z-000000' -Reason 'none' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.SuspendFlagRolloutCommand'
        { Step-FlagRollout -RolloutId 'ro-20000101T000000Z-000000' -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'RolloutNotFound,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'Get-Flag -Flag with no environment reads every environment (new_reports is in production only)' {
        $flag = @(Get-Flag -Flag new_reports)
        $flag.Count | Should -Be 1
        $flag[0].Environment | Should -Be 'production'
        @(Get-Flag -Flag new_scheduler).Environment | Should -Be @('staging')
        { Get-Flag -Flag no_such_flag -ErrorAction Stop } | Should -Throw -ErrorId 'FlagNotFound,PMS.Flags.Cmdlets.Commands.GetFlagCommand'
    }

    It 'binds flag names from the pipeline: "a","b" | <Command>' -ForEach @(
        @{ Command = 'Enable-Flag' }, @{ Command = 'Disable-Flag' }
    ) {
        $results = 'telehealth_appointments_enabled', 'patient_portal_v2' | & $Command -Environment staging -Reason 'piped names' -Force
        $results.Flag | Should -Be @('telehealth_appointments_enabled', 'patient_portal_v2')
        @('new_reports' | Get-Flag -Environment production).Flag | Should -Be 'new_reports'
    }

    It '-User <Value> is refused at binding and nothing is changed or recorded' -ForEach @(
        @{ Value = "''"; User = '' }, @{ Value = "' '"; User = ' ' }
    ) {
        $before = Get-SandboxSnapshot $sandbox
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -User $User } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        { Step-FlagRollout -Flag new_scheduler -Environment staging -User $User } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }
}

Describe '7. Docs that do not mislead' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Get-FlagAudit -Newest 2 returns the latest events, newest first ("who changed it last")' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'second'
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 6 -Reason 'third'
        $newest = @(Get-FlagAudit -Newest 2)
        $newest.Reason | Should -Be @('third', 'second')
        @(Get-FlagAudit -First 1).Reason | Should -Be 'seed event'
        { Get-FlagAudit -First 1 -Newest 1 } | Should -Throw -ErrorId 'AuditRangeConflict,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand'
    }

    It 'about_PMS.Flags says -Newest for "who changed it last", and README does not call Enable-Flag full activation' {
        $about = Get-Content -Raw (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/about_PMS.Flags.help.txt')
        $about | Should -BeLike '*-Newest 5 # who changed it last*'
        $about | Should -Not -BeLike '*-First 5 # who changed it last*'
        $readme = Get-Content -Raw (Join-Path $env:PMS_FLAGS_REPO 'README.md')
        ($readme -split "`n" | Where-Object { $_ -like '*`Enable-Flag`*' -and $_ -like '*Full activation*' }) | Should -BeNullOrEmpty
        ($readme -split "`n" | Where-Object { $_ -like '| Full activation*' }) | Should -BeLike '*-Percentage 100*'
    }
}

Describe '8. Discoverability' -Tag Operator {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Get-FlagAudit -EventType completes the known event types, not file names' {
        Push-Location $sandbox.Root
        try {
            Get-Completion 'Get-FlagAudit -EventType feature' | Should -Be @('feature_flag_propagated', 'feature_flag_toggled')
            Get-Completion 'Get-FlagAudit -EventType rollout_r' | Should -Be @('rollout_resumed', 'rollout_rolled_back')
            Get-Completion 'Get-FlagAudit -EventType ' | Should -Contain 'emergency_rollback'
            Get-Completion 'Get-FlagAudit -EventType ' | Should -Not -Contain 'feature_flags.json'
        }
        finally { Pop-Location }
    }

    It 'Get-FlagAudit -User completes the users the ledger recorded' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -User 'alice@pms.example.com'
        Push-Location $sandbox.Root
        try { Get-Completion 'Get-FlagAudit -User ali' | Should -Be @("'alice@pms.example.com'") }
        finally { Pop-Location }
    }

    It 'Get-FlagAudit -EventType with a typo is EventTypeUnknown, not an empty answer' {
        { Get-FlagAudit -EventType feature_flag_toggle } | Should -Throw -ErrorId 'EventTypeUnknown,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand'
        @(Get-FlagAudit -EventType FEATURE_FLAG_TOGGLED).Count | Should -Be 1
    }

    It '-RolloutId completes a rollout that has ended' {
        $state = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 01:00:00 -Reason 'to stop' -NoWait 3>$null
        $null = Stop-FlagRollout -RolloutId $state.RolloutId -Reason 'stopped' -Force
        Get-Completion 'Get-FlagRollout -RolloutId ro-' | Should -Contain $state.RolloutId
    }

    It 'a wildcard in a changing -Flag is FlagWildcardNotAccepted and changes nothing (<Command>)' -ForEach @(
        @{ Command = 'Set-FlagPercentage'; Action = { Set-FlagPercentage -Flag 'new_*' -Environment staging -Percentage 5 -Reason 'r' -ErrorAction Stop } }
        @{ Command = 'Disable-Flag'; Action = { Disable-Flag -Flag 'new_*' -Environment staging -Reason 'r' -Force -ErrorAction Stop } }
        @{ Command = 'Invoke-EmergencyRollback'; Action = { Invoke-EmergencyRollback -Flag 'new_?cheduler' -Environment staging -Reason 'r' -Force -ErrorAction Stop } }
    ) {
        $before = Get-SandboxSnapshot $sandbox
        { & $Action } | Should -Throw -ErrorId "FlagWildcardNotAccepted,PMS.Flags.Cmdlets.Commands.$($Command -replace '-', '')Command"
        try { & $Action } catch { $_.Exception.Message | Should -BeLike '*wildcards are not accepted here*' }
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }
}

Describe '9. Views at 80 columns' -Tag Operator {
    BeforeEach {
        $sandbox = New-FlagSandbox -SeedLedger
        $PSStyle.OutputRendering = 'PlainText'
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Get-Flag' {
        $flags = @(Get-Flag -Flag telehealth_appointments_enabled)
        $stamp = $flags[0].LastModified.ToString('yyyy-MM-dd HH:mm')
        Assert-FitsEightyColumns $flags 'Flag', 'Environment', 'On', 'Percentage', 'LastModified' @(, @('telehealth_appointments_enabled', 'staging', $stamp))
    }

    It 'Set-FlagPercentage, Enable-Flag and Disable-Flag' {
        $record = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 12.5 -Reason 'r'
        Assert-FitsEightyColumns @($record) 'Flag', 'Environment', 'On', 'Percentage', 'Was', 'Changed' @(, @('telehealth_appointments_enabled', 'staging', '12.5'))
        Assert-FitsEightyColumns @(Disable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -Force) 'Flag', 'Environment', 'On', 'Percentage', 'Was', 'Changed'
    }

    It 'Invoke-EmergencyRollback and its steps' {
        $result = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'incident' -Force
        Assert-FitsEightyColumns @($result) 'Flag', 'Environment', 'TimeToFlagOff', 'Verified', 'WithinSla' @(, @('telehealth_appointments_enabled', 'production', $result.TimeToFlagOff.ToString('mm\:ss\.fff')))
        Assert-FitsEightyColumns @($result.Steps) 'Name', 'Status', 'Duration', 'Message'
    }

    It 'Get-FlagAudit, with a long environment name' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'a reason long enough to need more than eighty columns on its own, surely'
        $events = @(Get-FlagAudit)
        Assert-FitsEightyColumns $events 'Timestamp', 'EventType', 'Environment', 'Flag' @(, @('feature_flag_toggled', 'staging', 'new_billing_engine'))
    }

    It 'Export-FlagAudit prints the file with its size' {
        $file = Get-FlagAudit | Export-FlagAudit -Format Json -Path (Join-Path $sandbox.Root 'report.json')
        $text = $file | Out-String -Width 80
        $text | Should -BeLike "* $((Get-Item -LiteralPath $file.FullName).Length) report.json*"
    }

    It 'Test-FlagAuditChain, Connect-FlagStore and Connect-FlagLedger' {
        Assert-FitsEightyColumns @(Test-FlagAuditChain) 'Valid', 'Count', 'FirstBrokenSequence', 'Problem', 'Ledger'
        Assert-FitsEightyColumns @($sandbox.Store) 'Kind', 'DefaultEnvironment', 'ProtectedEnvironments', 'Path'
        Assert-FitsEightyColumns @($sandbox.Ledger) 'Name'
    }

    It 'Get-FlagRollout, Stop-FlagRollout, New-FlagGuardrail and Test-FlagGuardrail' {
        $state = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 25 -BakeTime 01:00:00 -Reason 'view' -NoWait 3>$null
        Assert-FitsEightyColumns @(Get-FlagRollout) 'RolloutId', 'Flag', 'Environment', 'Status', 'Percentage' @(, @($state.RolloutId, 'staging', 'Running'))
        $stop = Stop-FlagRollout -RolloutId $state.RolloutId -Reason 'view' -Force
        Assert-FitsEightyColumns @($stop) 'Flag', 'Environment', 'Action', 'Percentage', 'Reason' @(, @('staging'))
        $guardrail = New-FlagGuardrail -HealthUrl 'http://127.0.0.1:9/health'
        Assert-FitsEightyColumns @($guardrail) 'Name', 'Kind', 'Severity', 'For', 'NoData', 'Expression'
        Assert-FitsEightyColumns @($guardrail | Test-FlagGuardrail) 'Guardrail', 'Severity', 'Status', 'Value', 'Threshold', 'Reason'
    }

    It 'refusal messages end in one full stop, never ".."' {
        $messages = foreach ($action in @(
                { Set-FlagPercentage -Flag no_such -Environment staging -Percentage 5 -Reason 'r' -ErrorAction Stop }
                { Set-FlagPercentage -Flag new_scheduler -Environment qa -Percentage 5 -Reason 'r' -ErrorAction Stop }
                { Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r' -ErrorAction Stop }
                { Connect-FlagStore -Path (Join-Path $sandbox.Root 'missing.json') -ErrorAction Stop }
                { Get-FlagAudit -EventType nope }
                { Stop-FlagRollout -Flag new_scheduler -Environment staging -Reason 'r' -Force -ErrorAction Stop }
            )) {
            try { & $action; 'no error' } catch { $_.Exception.Message }
        }
        $messages | Should -Not -Contain 'no error'
        $messages | Where-Object { $_ -match '\.\.$' -or $_ -match '\.\. ' } | Should -BeNullOrEmpty
    }
}

Describe '10. LaunchDarkly: -ApiKey as text' -Tag Operator {
    It 'a plain string to -ApiKey is refused with a hint, and the string is not repeated' {
        $secret = 'api-PMS-SECRET-typed-as-text'
        try { Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $secret; throw 'expected a refusal' }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'ParameterArgumentTransformationError,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
        $record.Exception.Message | Should -BeLike '*Read-Host -AsSecureString*'
        $record.Exception.Message | Should -BeLike '*LD_API_KEY*'
        ($record | Out-String) | Should -Not -BeLike "*$secret*"
    }
}

Describe '10. LaunchDarkly: retries within the budget' -Tag Operator, LaunchDarkly {
    BeforeAll {
        $script:Token = 'api-PMS-SECRET-0b5e-operator-tests'
        $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in $env:PMS_FLAGS_TESTSERVERS, 'launchdarkly', '--token', $script:Token) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $script:StandIn = [System.Diagnostics.Process]::Start($psi)
        if ($script:StandIn.StandardOutput.ReadLine() -notmatch '^LISTENING (http://127\.0\.0\.1:\d+)$') { throw 'The LaunchDarkly stand-in did not start.' }
        $script:BaseUri = $Matches[1]
    }
    AfterAll {
        try { $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/shutdown" } catch { }
        if ($script:StandIn -and -not $script:StandIn.WaitForExit(10000)) { $script:StandIn.Kill() }
    }
    BeforeEach {
        $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/reset"
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath 3>$null
        $secure = ConvertTo-SecureString $script:Token -AsPlainText -Force
        $store = Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $secure -BaseUri $script:BaseUri -Environment staging -TimeoutSec 2
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'never announces an attempt that does not happen: the last warning names the last attempt made' {
        $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/faults" -ContentType 'application/json' -Body (@{ kind = '503'; count = 1000; method = 'PATCH' } | ConvertTo-Json)
        $null = Invoke-RestMethod -Method Delete "$script:BaseUri/_control/requests"
        try { Set-FlagPercentage -Flag patient-portal-v2 -Percentage 45 -Reason 'service down' -WarningVariable warnings 3>$null; throw 'expected a refusal' }
        catch { $_.FullyQualifiedErrorId | Should -Be 'LaunchDarklyBudgetExhausted,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand' }
        $attempts = @((Invoke-RestMethod "$script:BaseUri/_control/requests").items | Where-Object method -EQ 'PATCH').Count
        $attempts | Should -BeGreaterThan 1
        $announced = @($warnings | ForEach-Object { if ("$_" -match '\(attempt (\d+),') { [int]$Matches[1] } })
        $announced.Count | Should -Be ($attempts - 1)
        ($announced | Measure-Object -Maximum).Maximum | Should -Be $attempts
        # A 5xx after the request was sent cannot say the change was NOT made: it is on record as unknown, never as done.
        $events = @(Get-FlagAudit)
        $events.Count | Should -Be 1
        $events[0].Outcome | Should -Be 'unknown'
    }

    It 'the LaunchDarkly store view fits 80 columns' {
        Assert-FitsEightyColumns @($store) 'Kind', 'ProjectKey', 'Default', 'Protected', 'BaseUri' @(, @('LaunchDarkly', 'pms', 'staging'))
    }
}
