#Requires -Version 7.4
# The audit trail through the cmdlets: the ledger's fields, Get-FlagAudit's filters, Export-FlagAudit's files and
# Test-FlagAuditChain on valid and tampered ledgers.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    $script:PlaybookFields = 'timestamp', 'event_type', 'user_id', 'feature_flag', 'previous_state', 'new_state', 'environment', 'reason', 'rollout_percentage', 'approval_ticket'
    $script:AllFields = $script:PlaybookFields + @('event_id', 'sequence', 'rollout_id', 'store', 'previous_percentage', 'outcome', 'details', 'prev_hash', 'hash')

    function New-AuditHistory {
        # Five events from three people, with distinct timestamps:
        #   1 new_scheduler staging (alice)  2 new_reports production (bob, ticket)  3 new_scheduler off staging (alice)
        #   4+5 emergency rollback of patient_portal_v2 in production (carol): feature_flag_toggled + emergency_rollback
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 50 -Reason 'step 1' -User 'alice'
        Start-Sleep -Milliseconds 15
        $null = Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'step 2' -ApprovalTicket 'TICKET-2' -User 'bob'
        Start-Sleep -Milliseconds 15
        $null = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'step 3' -User 'alice' -Force
        Start-Sleep -Milliseconds 15
        $null = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'step 4' -ApprovalTicket 'INC-4' -User 'carol' -Force
        @(Get-FlagAudit)
    }

    # The sequence numbers of the events a command returned, in order.
    function Get-Sequence([scriptblock] $Command) { [long[]]@(& $Command | ForEach-Object Sequence) }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Connect-FlagLedger' -Tag Ledger {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'creates the ledger and its folder and returns it' {
        $ledger = Connect-FlagLedger -Path $sandbox.LedgerPath
        $ledger.Path | Should -Be $sandbox.LedgerPath
        $ledger.Name | Should -Be "Jsonl:$($sandbox.LedgerPath)"
        Test-Path -LiteralPath $sandbox.LedgerPath -PathType Leaf | Should -BeTrue
        (Get-Item -LiteralPath $sandbox.LedgerPath).Length | Should -Be 0
    }

    It 'resolves a relative path against the current location' {
        Push-Location $sandbox.Root
        try { $ledger = Connect-FlagLedger -Path ./audit/ledger.jsonl }
        finally { Pop-Location }
        $ledger.Path | Should -Be $sandbox.LedgerPath
    }

    It 'appends to an existing ledger and never rewrites it' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'one'
        $first = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 6 -Reason 'two'
        $now = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        [Convert]::ToBase64String($now[0..($first.Length - 1)]) | Should -Be ([Convert]::ToBase64String($first))
        @(Get-FlagAudit).Sequence | Should -Be @(1, 2)
    }

    It 'with -NoDefault leaves the session ledger as it was' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
        $side = Connect-FlagLedger -Path (Join-Path $sandbox.Root 'side.jsonl') -NoDefault
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r'
        @(Get-FlagAudit).Count | Should -Be 1
        @(Get-FlagAudit -Ledger $side).Count | Should -Be 0
    }
}

Describe 'Audit events' -Tag Audit, Ledger {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $events = New-AuditHistory
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'stores every playbook field in every event, null where it does not apply' {
        $lines = Get-Content -LiteralPath $sandbox.LedgerPath
        $lines.Count | Should -Be 5
        foreach ($line in $lines) {
            $names = @(($line | ConvertFrom-Json -AsHashtable).Keys)
            foreach ($field in $script:AllFields) { $names | Should -Contain $field }
            $names.Count | Should -Be $script:AllFields.Count
        }
        $first = Read-LedgerLine $sandbox.LedgerPath | Select-Object -First 1
        $first.approval_ticket | Should -BeNullOrEmpty
        $lines[0] | Should -Match '"approval_ticket":null'
        $lines[0] | Should -Match '"rollout_id":null'
    }

    It 'chains the events: sequence 1..5, each prev_hash is the hash before it' {
        $lines = Read-LedgerLine $sandbox.LedgerPath
        $lines.sequence | Should -Be @(1, 2, 3, 4, 5)
        $lines[0].prev_hash | Should -BeNullOrEmpty
        foreach ($i in 1..4) { $lines[$i].prev_hash | Should -Be $lines[$i - 1].hash }
        $lines.hash | ForEach-Object { $_ | Should -Match '^[0-9a-f]{64}$' }
    }

    It 'returns events as objects with PascalCase properties that mirror the ledger' {
        $events.Count | Should -Be 5
        $raw = Read-LedgerLine $sandbox.LedgerPath
        $e = $events[1]
        $e.GetType().Name | Should -Be 'AuditEvent'
        $e.EventType | Should -Be 'feature_flag_toggled'
        $e.UserId | Should -Be 'bob'
        $e.FeatureFlag | Should -Be 'new_reports'
        $e.Flag | Should -Be 'new_reports'
        $e.Environment | Should -Be 'production'
        $e.PreviousState | Should -BeFalse
        $e.NewState | Should -BeTrue
        $e.RolloutPercentage | Should -Be 5
        $e.PreviousPercentage | Should -Be 0
        $e.ApprovalTicket | Should -Be 'TICKET-2'
        $e.Reason | Should -Be 'step 2'
        $e.Store | Should -Be $sandbox.Store.Identity
        $e.Sequence | Should -Be 2
        $e.Hash | Should -Be $raw[1].hash
        $e.PrevHash | Should -Be $raw[0].hash
        $e.EventId | Should -Be $raw[1].event_id
        $e.Timestamp | Should -BeOfType [DateTimeOffset]
        $e.Timestamp.Offset | Should -Be ([TimeSpan]::Zero)
        $e.Timestamp.ToString('yyyy-MM-ddTHH:mm:ss.fffZ') | Should -Be $raw[1].timestamp
    }
}

Describe 'Get-FlagAudit filters' -Tag Audit {
    BeforeAll {
        # One history for the whole block: the filters only read.
        $sandbox = New-FlagSandbox
        $events = New-AuditHistory
    }
    AfterAll { Remove-FlagSandbox $sandbox }

    It 'returns everything, oldest first, without filters' {
        Get-Sequence { Get-FlagAudit } | Should -Be @(1, 2, 3, 4, 5)
    }

    It '<Name>' -ForEach @(
        @{ Name = '-Flag'; Filter = @{ Flag = 'new_scheduler' }; Expected = @(1, 3) }
        @{ Name = '-Flag is case-insensitive'; Filter = @{ Flag = 'NEW_SCHEDULER' }; Expected = @(1, 3) }
        @{ Name = '-Flag takes the Key alias'; Filter = @{ Key = 'new_reports' }; Expected = @(2) }
        @{ Name = '-Environment'; Filter = @{ Environment = 'production' }; Expected = @(2, 4, 5) }
        @{ Name = '-EventType one type'; Filter = @{ EventType = 'emergency_rollback' }; Expected = @(5) }
        @{ Name = '-EventType the playbook''s grep'; Filter = @{ EventType = 'feature_flag_toggled' }; Expected = @(1, 2, 3, 4) }
        @{ Name = '-EventType several types'; Filter = @{ EventType = 'emergency_rollback', 'feature_flag_toggled' }; Expected = @(1, 2, 3, 4, 5) }
        @{ Name = '-User'; Filter = @{ User = 'alice' }; Expected = @(1, 3) }
        @{ Name = '-User is case-insensitive'; Filter = @{ User = 'BOB' }; Expected = @(2) }
        @{ Name = '-First'; Filter = @{ First = 2 }; Expected = @(1, 2) }
        @{ Name = '-First counts matches, not lines'; Filter = @{ Environment = 'production'; First = 2 }; Expected = @(2, 4) }
        @{ Name = 'filters combine with AND'; Filter = @{ Environment = 'staging'; User = 'alice'; EventType = 'feature_flag_toggled' }; Expected = @(1, 3) }
        @{ Name = 'no match is no output and no error'; Filter = @{ User = 'mallory' }; Expected = @() }
    ) {
        $sequences = @(Get-Sequence { Get-FlagAudit @Filter -ErrorVariable script:errors })
        Should -ActualValue $sequences -Be $Expected
        $errors | Should -BeNullOrEmpty
    }

    It '-Since is inclusive' {
        Get-Sequence { Get-FlagAudit -Since $events[2].Timestamp } | Should -Be @(3, 4, 5)
    }

    It '-Until is inclusive' {
        Get-Sequence { Get-FlagAudit -Until $events[1].Timestamp } | Should -Be @(1, 2)
    }

    It '-Since and -Until together select a window' {
        Get-Sequence { Get-FlagAudit -Since $events[1].Timestamp -Until $events[2].Timestamp } | Should -Be @(2, 3)
    }

    It '-Since takes a string with an offset' {
        $text = $events[2].Timestamp.ToString('o')
        Get-Sequence { Get-FlagAudit -Since $text } | Should -Be @(3, 4, 5)
    }

    It 'reads nothing, without error, from a ledger that does not exist yet' {
        $empty = Connect-FlagLedger -Path (Join-Path $sandbox.Root 'empty/ledger.jsonl') -NoDefault
        Remove-Item -LiteralPath $empty.Path
        @(Get-FlagAudit -Ledger $empty).Count | Should -Be 0
    }
}

Describe 'Export-FlagAudit' -Tag Audit, Export {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $events = New-AuditHistory
        $raw = Read-LedgerLine $sandbox.LedgerPath
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'writes a JSON array with the ledger''s snake_case field names and values' {
        $path = Join-Path $sandbox.Root 'export.json'
        $file = Get-FlagAudit | Export-FlagAudit -Format Json -Path $path
        $file | Should -BeOfType [System.IO.FileInfo]
        $file.FullName | Should -Be $path
        $text = Get-Content -Raw -LiteralPath $path
        $exported = @(ConvertFrom-Json -InputObject $text -DateKind String -NoEnumerate)[0]
        $exported.Count | Should -Be 5
        foreach ($i in 0..4) {
            @($exported[$i].PSObject.Properties.Name) | Should -Be $script:AllFields
            foreach ($field in $script:AllFields | Where-Object { $_ -ne 'details' }) {
                $exported[$i].$field | Should -Be $raw[$i].$field -Because "$field of event $($i + 1)"
            }
        }
        $text | Should -Match '"approval_ticket": null'
        $text | Should -Not -Match '"(EventType|UserId|FeatureFlag)"'
    }

    It 'writes a CSV with a snake_case header row and one row per event' {
        $path = Join-Path $sandbox.Root 'export.csv'
        $null = Get-FlagAudit | Export-FlagAudit -Format Csv -Path $path
        $lines = Get-Content -LiteralPath $path
        $lines[0] | Should -Be ($script:AllFields -join ',')
        $rows = @(Import-Csv -LiteralPath $path)
        $rows.Count | Should -Be 5
        $rows.sequence | Should -Be @('1', '2', '3', '4', '5')
        $rows[1].user_id | Should -Be 'bob'
        $rows[1].approval_ticket | Should -Be 'TICKET-2'
        $rows[1].timestamp | Should -Be $raw[1].timestamp
        $rows[1].new_state | Should -Be 'true'
        $rows[0].approval_ticket | Should -Be ''
        $rows[4].event_type | Should -Be 'emergency_rollback'
        ($rows[4].details | ConvertFrom-Json).steps.Count | Should -Be 3
        $rows.hash | Should -Be @($raw.hash)
    }

    It 'exports only what the filters piped in' {
        $path = Join-Path $sandbox.Root 'alice.json'
        $null = Get-FlagAudit -User alice | Export-FlagAudit -Format Json -Path $path
        $exported = @(Get-Content -Raw -LiteralPath $path | ConvertFrom-Json -NoEnumerate)[0]
        @($exported.sequence) | Should -Be @(1, 3)
        @($exported.user_id | Select-Object -Unique) | Should -Be @('alice')
    }

    It 'writes an empty export, not an error, when no event matched' {
        $csv = Join-Path $sandbox.Root 'none.csv'
        $json = Join-Path $sandbox.Root 'none.json'
        $null = Get-FlagAudit -User nobody | Export-FlagAudit -Format Csv -Path $csv
        $null = Get-FlagAudit -User nobody | Export-FlagAudit -Format Json -Path $json
        @(Get-Content -LiteralPath $csv) | Should -Be @($script:AllFields -join ',')
        (Get-Content -Raw -LiteralPath $json).Trim() | Should -Be '[]'
    }

    It 'binds -InputObject directly as well as from the pipeline' {
        $path = Join-Path $sandbox.Root 'direct.csv'
        $null = Export-FlagAudit -InputObject $events[0], $events[1] -Format Csv -Path $path
        @(Import-Csv -LiteralPath $path).Count | Should -Be 2
    }

    It 'resolves a relative path against the current location' {
        Push-Location $sandbox.Root
        try { $file = Get-FlagAudit -First 1 | Export-FlagAudit -Format Json -Path ./relative.json }
        finally { Pop-Location }
        $file.FullName | Should -Be (Join-Path $sandbox.Root 'relative.json')
    }

    It 'replaces an existing file only with -Force' {
        $path = Join-Path $sandbox.Root 'report.csv'
        Set-Content -LiteralPath $path -Value 'old report'
        { Get-FlagAudit | Export-FlagAudit -Format Csv -Path $path } | Should -Throw -ErrorId 'ExportFileExists,PMS.Flags.Cmdlets.Commands.ExportFlagAuditCommand'
        (Get-Content -Raw -LiteralPath $path).Trim() | Should -Be 'old report'
        $null = Get-FlagAudit | Export-FlagAudit -Format Csv -Path $path -Force
        @(Import-Csv -LiteralPath $path).Count | Should -Be 5
        @(Get-ChildItem -LiteralPath $sandbox.Root -Filter '*.tmp').Count | Should -Be 0
    }
}

Describe 'Test-FlagAuditChain' -Tag Audit, Chain {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $null = New-AuditHistory
        $lines = [System.Collections.Generic.List[string]]::new([string[]](Get-Content -LiteralPath $sandbox.LedgerPath))
        $original = Test-FlagAuditChain

        function Write-Ledger([string[]] $Lines) {
            [IO.File]::WriteAllText($sandbox.LedgerPath, (($Lines -join "`n") + "`n"))
        }
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'reports an intact ledger as valid' {
        $original.GetType().Name | Should -Be 'ChainVerification'
        $original.Valid | Should -BeTrue
        $original.Count | Should -Be 5
        $original.FirstBrokenSequence | Should -BeNullOrEmpty
        $original.Problem | Should -BeNullOrEmpty
        $original.HeadHash | Should -Be (Read-LedgerLine $sandbox.LedgerPath)[-1].hash
        $original.Ledger | Should -Be "Jsonl:$($sandbox.LedgerPath)"
    }

    It 'checks a file given by -Path, and a ledger given by -Ledger' {
        (Test-FlagAuditChain -Path $sandbox.LedgerPath).Valid | Should -BeTrue
        Push-Location (Split-Path $sandbox.LedgerPath)
        try { (Test-FlagAuditChain -Path ./ledger.jsonl).Count | Should -Be 5 }
        finally { Pop-Location }
        $copy = Join-Path $sandbox.Root 'copy.jsonl'
        Copy-Item $sandbox.LedgerPath $copy
        $ledger = Connect-FlagLedger -Path $copy -NoDefault
        (Test-FlagAuditChain -Ledger $ledger).Count | Should -Be 5
    }

    It 'finds a modified event' {
        $lines[2] = $lines[2].Replace('"reason":"step 3"', '"reason":"step 3 (approved)"')
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain -WarningVariable warnings 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'modified'
        $verdict.FirstBrokenSequence | Should -Be 3
        $verdict.Message | Should -Not -BeNullOrEmpty
        $warnings.Count | Should -Be 1
    }

    It 'finds a modified event even when the forger recomputed its hash' {
        $edited = $lines[2].Replace('"reason":"step 3"', '"reason":"step 3 (approved)"')
        $canonical = $edited.Substring(0, $edited.LastIndexOf(',"hash":"')) + '}'
        $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($canonical))).ToLowerInvariant()
        $lines[2] = $canonical.Substring(0, $canonical.Length - 1) + ',"hash":"' + $hash + '"}'
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        # The forged line is self-consistent; the chain breaks where the next event no longer links to it.
        $verdict.FirstBrokenSequence | Should -BeIn @(3, 4)
    }

    It 'finds a deleted event' {
        $lines.RemoveAt(2)
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'deleted'
        $verdict.FirstBrokenSequence | Should -Be 3
        $verdict.Count | Should -Be 4
    }

    It 'notices a deleted tail only through the head hash' {
        $lines.RemoveAt(4)
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain
        $verdict.Valid | Should -BeTrue
        $verdict.Count | Should -Be 4
        $verdict.HeadHash | Should -Not -Be $original.HeadHash
    }

    It 'finds an inserted event' {
        # A forged event claiming #3, correctly hashed and linked to #2, slipped in before the real #3.
        $forged = $lines[2].Replace('"reason":"step 3"', '"reason":"forged"')
        $canonical = $forged.Substring(0, $forged.LastIndexOf(',"hash":"')) + '}'
        $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($canonical))).ToLowerInvariant()
        $lines.Insert(2, $canonical.Substring(0, $canonical.Length - 1) + ',"hash":"' + $hash + '"}')
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'inserted'
        $verdict.FirstBrokenSequence | Should -Be 3
        $verdict.Count | Should -Be 6
    }

    It 'finds a duplicated event' {
        $lines.Insert(2, $lines[1])
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'inserted'
        $verdict.FirstBrokenSequence | Should -Be 2
    }

    It 'finds reordered events' {
        $third = $lines[2]
        $lines[2] = $lines[3]
        $lines[3] = $third
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'reordered'
        $verdict.FirstBrokenSequence | Should -Be 3
    }

    It 'reports a line that is not an event as modified, without failing the command' {
        $lines[1] = 'this line was overwritten'
        Write-Ledger $lines
        $verdict = Test-FlagAuditChain 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'modified'
        $verdict.FirstBrokenSequence | Should -Be 2
    }
}
