#Requires -Version 7.4
# Save-FlagAuditArchive through the BUILT module with a JSONL ledger: events older than the cut (back-dated by appending
# through the ledger's own AppendAsync, so the chain is real) go to an archive that verifies as a prefix chain, the
# archive is recorded as audit_archived, and nothing is ever removed from the ledger. Refusals change no file.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    function Add-BackdatedEvent($Ledger, [DateTimeOffset[]] $Timestamp) {
        # The engine lives in a private load context: its types are reached through the ledger object's assembly.
        $type = $Ledger.GetType().Assembly.GetType('PMS.Flags.Engine.Ledger.AuditEvent')
        $drafts = [Array]::CreateInstance($type, $Timestamp.Count)
        for ($i = 0; $i -lt $Timestamp.Count; $i++) {
            $e = [Activator]::CreateInstance($type)
            $type.GetProperty('Timestamp').SetValue($e, $Timestamp[$i])
            $type.GetProperty('EventType').SetValue($e, 'feature_flag_toggled')
            $type.GetProperty('UserId').SetValue($e, 'archivist')
            $type.GetProperty('FeatureFlag').SetValue($e, 'new_billing_engine')
            $type.GetProperty('Environment').SetValue($e, 'staging')
            $type.GetProperty('Reason').SetValue($e, "old event $i")
            $drafts[$i] = $e
        }
        $null = $Ledger.AppendAsync($drafts, $null, $false, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
    }
}

AfterAll { Restore-PmsEnvironment $script:savedEnvironment }

Describe 'Save-FlagAuditArchive' -Tag AuditArchive {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $now = [DateTimeOffset]::UtcNow
        Add-BackdatedEvent $sandbox.Ledger @($now.AddYears(-9), $now.AddYears(-8), $now.AddYears(-7))
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'recent change'
        $archive = Join-Path $sandbox.Root 'archive/before-6y.jsonl'
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'writes the events before the cut as the same lines, 0600, verifying as a prefix chain; records audit_archived; deletes nothing' {
        $ledgerBefore = @(Get-Content -LiteralPath $sandbox.LedgerPath)
        $ledgerBefore.Count | Should -Be 4

        $result = Save-FlagAuditArchive -Before $now.AddYears(-6).AddDays(-2).UtcDateTime -Path $archive -Reason 'records office' -User archivist

        $result.Count | Should -Be 3
        $result.FirstSequence | Should -Be 1
        $result.LastSequence | Should -Be 3
        $archiveLines = @(Get-Content -LiteralPath $archive)
        $archiveLines | Should -Be $ledgerBefore[0..2]
        $result.Sha256 | Should -Be ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($archive))).ToLowerInvariant())
        $result.HeadHash | Should -Be ($ledgerBefore[2] | ConvertFrom-Json).hash
        (Get-Item -LiteralPath $archive).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        @(Get-ChildItem -LiteralPath (Split-Path $archive) -Force).Count | Should -Be 1 -Because 'no temporary file is left behind'

        $verdict = Test-FlagAuditChain -Path $archive
        $verdict.Valid | Should -BeTrue
        $verdict.Count | Should -Be 3

        $ledgerAfter = @(Get-Content -LiteralPath $sandbox.LedgerPath)
        $ledgerAfter.Count | Should -Be 5
        $ledgerAfter[0..3] | Should -Be $ledgerBefore -Because 'nothing is removed or rewritten in the ledger'
        $recorded = $ledgerAfter[4] | ConvertFrom-Json -DateKind String
        $recorded.event_type | Should -Be 'audit_archived'
        $recorded.reason | Should -Be 'records office'
        $recorded.user_id | Should -Be 'archivist'
        $recorded.details.count | Should -Be 3
        $recorded.details.first_sequence | Should -Be 1
        $recorded.details.last_sequence | Should -Be 3
        $recorded.details.sha256 | Should -Be $result.Sha256
        $recorded.details.head_hash | Should -Be $result.HeadHash
        $recorded.details.deleted | Should -Be 0
        (Test-FlagAuditChain).Valid | Should -BeTrue
        @(Get-FlagAudit -EventType audit_archived).Count | Should -Be 1
    }

    It 'refuses a cut inside the default six-year retention period with AuditRetentionNotElapsed; nothing is written' {
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        { Save-FlagAuditArchive -Before $now.AddYears(-5).UtcDateTime -Path $archive -Reason 'too early' } |
            Should -Throw -ErrorId 'AuditRetentionNotElapsed,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot
        Test-Path -LiteralPath (Split-Path $archive) | Should -BeFalse
    }

    It 'honours a longer -RetentionPeriod and refuses a negative one' {
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        { Save-FlagAuditArchive -Before $now.AddYears(-7).UtcDateTime -Path $archive -Reason 'ten years' -RetentionPeriod ([TimeSpan]::FromDays(3652.5)) } |
            Should -Throw -ErrorId 'AuditRetentionNotElapsed,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        { Save-FlagAuditArchive -Before $now.AddYears(-7).UtcDateTime -Path $archive -Reason 'negative' -RetentionPeriod ([TimeSpan]::FromDays(-1)) } |
            Should -Throw -ErrorId 'AuditRetentionInvalid,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot
    }

    It 'refuses an existing archive file without -Force (AuditArchiveFileExists), replaces it with -Force' {
        $null = New-Item -ItemType Directory (Split-Path $archive)
        Set-Content -LiteralPath $archive -Value 'an earlier archive'
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        { Save-FlagAuditArchive -Before $now.AddYears(-7).AddDays(-1).UtcDateTime -Path $archive -Reason 'again' } |
            Should -Throw -ErrorId 'AuditArchiveFileExists,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot

        $result = Save-FlagAuditArchive -Before $now.AddYears(-7).AddDays(-1).UtcDateTime -Path $archive -Reason 'again' -Force
        $result.Count | Should -Be 2
        (Test-FlagAuditChain -Path $archive).Count | Should -Be 2
        @(Get-Content -LiteralPath $sandbox.LedgerPath).Count | Should -Be 5
    }

    It 'refuses a cut with no older event (AuditArchiveEmpty); nothing is written or recorded' {
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        { Save-FlagAuditArchive -Before $now.AddYears(-10).UtcDateTime -Path $archive -Reason 'nothing there' } |
            Should -Throw -ErrorId 'AuditArchiveEmpty,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot
    }

    It 'refuses a ledger that does not verify (AuditArchiveSourceBroken); nothing is written' {
        $lines = @(Get-Content -LiteralPath $sandbox.LedgerPath)
        $lines[1] = $lines[1].Replace('old event 1', 'old event X')
        [IO.File]::WriteAllText($sandbox.LedgerPath, ($lines -join "`n") + "`n")
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        { Save-FlagAuditArchive -Ledger $sandbox.Ledger -Before $now.AddYears(-6).AddDays(-2).UtcDateTime -Path $archive -Reason 'broken' } |
            Should -Throw -ErrorId 'AuditArchiveSourceBroken,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot
    }

    It 'reports a file that cannot be written (a folder in the way) as AuditArchiveWriteFailed; the ledger is unchanged' {
        $null = New-Item -ItemType Directory (Split-Path $archive)
        $blocker = Join-Path (Split-Path $archive) 'in-the-way.jsonl'
        $null = New-Item -ItemType Directory (Join-Path $blocker 'child')
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath
        { Save-FlagAuditArchive -Before $now.AddYears(-6).AddDays(-2).UtcDateTime -Path (Join-Path $blocker 'child') -Reason 'blocked' -Force } |
            Should -Throw -ErrorId 'AuditArchiveWriteFailed,PMS.Flags.Cmdlets.Commands.SaveFlagAuditArchiveCommand'
        Get-FileSnapshot $sandbox.LedgerPath | Should -Be $snapshot
        @(Get-ChildItem -LiteralPath $blocker -Force -File).Count | Should -Be 0 -Because 'the temporary file is removed'
    }

    It '-WhatIf writes no file and records nothing' {
        $snapshot = Get-FileSnapshot $sandbox.LedgerPath, $archive
        $out = Save-FlagAuditArchive -Before $now.AddYears(-6).AddDays(-2).UtcDateTime -Path $archive -Reason 'preview' -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-Content -LiteralPath $sandbox.LedgerPath).Count | Should -Be 4
        Get-FileSnapshot $sandbox.LedgerPath, $archive | Should -Be $snapshot
        Test-Path -LiteralPath (Split-Path $archive) | Should -BeFalse
    }
}

Describe 'Save-FlagAuditArchive on a PostgreSQL ledger' -Tag AuditArchive {
    BeforeAll {
        $script:db = New-TestDatabase 'archive'
        $script:pgPassword = [Environment]::GetEnvironmentVariable('PGPASSWORD')
        [Environment]::SetEnvironmentVariable('PGPASSWORD', $null)
    }
    AfterAll {
        Remove-TestDatabase $script:db
        [Environment]::SetEnvironmentVariable('PGPASSWORD', $script:pgPassword)
    }
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect; $null = Connect-FlagStore -Path $sandbox.FlagFile }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'archives the old rows to a JSONL file that verifies, records audit_archived, and leaves every row (the append-only triggers stay)' {
        $schema = 'archive_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $ledger = Connect-FlagLedger -ConnectionString $script:db.ConnectionString -Schema $schema
        $now = [DateTimeOffset]::UtcNow
        Add-BackdatedEvent $ledger @($now.AddYears(-8), $now.AddYears(-7))
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'recent change'
        $hashesBefore = @(Invoke-TestPostgresSql "SELECT hash FROM $schema.events ORDER BY sequence" $script:db.Name)
        $hashesBefore.Count | Should -Be 3
        $archive = Join-Path $sandbox.Root 'archive/pg-before-6y.jsonl'

        $result = Save-FlagAuditArchive -Ledger $ledger -Before $now.AddYears(-6).AddDays(-2).UtcDateTime -Path $archive -Reason 'six-year record'

        $result.Count | Should -Be 2
        $verdict = Test-FlagAuditChain -Path $archive
        $verdict.Valid | Should -BeTrue
        $verdict.Count | Should -Be 2
        @(Read-LedgerLine $archive).hash | Should -Be $hashesBefore[0..1]
        $hashesAfter = @(Invoke-TestPostgresSql "SELECT hash FROM $schema.events ORDER BY sequence" $script:db.Name)
        $hashesAfter.Count | Should -Be 4
        $hashesAfter[0..2] | Should -Be $hashesBefore -Because 'no row is removed or rewritten'
        (Invoke-TestPostgresSql "SELECT event_type FROM $schema.events WHERE sequence = 4" $script:db.Name) | Should -Be 'audit_archived'
        { Invoke-TestPostgresSql "DELETE FROM $schema.events WHERE sequence = 1" $script:db.Name } | Should -Throw
        @(Invoke-TestPostgresSql "SELECT count(*) FROM $schema.events" $script:db.Name) | Should -Be '4'
        (Test-FlagAuditChain -Ledger $ledger).Valid | Should -BeTrue
    }
}
