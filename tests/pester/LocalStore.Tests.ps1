#Requires -Version 7.4
# The local feature_flags.json store end to end through the cmdlets: connect, read, change, pipe.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Connect-FlagStore' -Tag LocalStore {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'returns the store with its path, default environment and protected environments' {
        $store = Connect-FlagStore -Path $sandbox.FlagFile -Environment staging
        $store.Kind | Should -Be 'LocalFile'
        $store.Path | Should -Be $sandbox.FlagFile
        $store.Name | Should -Be "LocalFile:$($sandbox.FlagFile)"
        $store.DefaultEnvironment | Should -Be 'staging'
        @($store.ProtectedEnvironments) | Should -Be @('production')
    }

    It 'resolves a relative path against the current location' {
        Push-Location $sandbox.Root
        try { $store = Connect-FlagStore -Path ./feature_flags.json }
        finally { Pop-Location }
        $store.Path | Should -Be $sandbox.FlagFile
    }

    It 'makes -Environment the default for commands without -Environment' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile -Environment production
        $flags = @(Get-Flag)
        $flags.Environment | Select-Object -Unique | Should -Be 'production'
        $flags.Count | Should -Be 4
    }

    It 'with -NoDefault returns a store without replacing the session default' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile -Environment staging
        $otherFile = Join-Path $sandbox.Root 'other.json'
        [IO.File]::WriteAllText($otherFile, '{ "qa": { "only_in_other": true } }')
        $other = Connect-FlagStore -Path $otherFile -NoDefault
        (Get-Flag -Store $other).Flag | Should -Be 'only_in_other'
        @(Get-Flag).Count | Should -Be 4   # the session still reads the first document's staging
    }

    It 'with -ProtectedEnvironment requires a ticket in the environments named' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile -ProtectedEnvironment staging
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
        $before = Get-FileSnapshot $sandbox.FlagFile, $sandbox.LedgerPath
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' } |
            Should -Throw -ErrorId 'ApprovalTicketRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        Get-FileSnapshot $sandbox.FlagFile, $sandbox.LedgerPath | Should -Be $before -Because 'the refused change left the document (new_scheduler and every other flag) and the ledger as they were'
        # production is no longer protected once the list is replaced
        (Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'r').Percentage | Should -Be 5
    }
}

Describe 'Get-Flag' -Tag LocalStore {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'reads every environment when the store has no default environment' {
        $flags = @(Get-Flag)
        $flags.Count | Should -Be 8
        ($flags.Environment | Sort-Object -Unique) | Should -Be @('production', 'staging')
    }

    It 'reads the three spellings of a flag as On and Percentage' {
        $staging = @{}
        Get-Flag -Environment staging | ForEach-Object { $staging[$_.Flag] = $_ }
        $staging['telehealth_appointments_enabled'].On | Should -BeFalse
        $staging['telehealth_appointments_enabled'].Percentage | Should -Be 0
        $staging['new_scheduler'].On | Should -BeTrue
        $staging['new_scheduler'].Percentage | Should -Be 100
        $staging['new_billing_engine'].On | Should -BeTrue
        $staging['new_billing_engine'].Percentage | Should -Be 10
        $staging['patient_portal_v2'].On | Should -BeFalse
        $staging['patient_portal_v2'].Percentage | Should -Be 30
        $staging['patient_portal_v2'].EffectivePercentage | Should -Be 0
    }

    It 'returns one flag by exact key, with the state object''s properties' {
        $flag = Get-Flag -Flag patient_portal_v2 -Environment production
        $flag.Flag | Should -Be 'patient_portal_v2'
        $flag.Environment | Should -Be 'production'
        $flag.On | Should -BeTrue
        $flag.Percentage | Should -Be 25
        $flag.Store | Should -Be $sandbox.Store.Name
        $flag.LastModified | Should -BeOfType [DateTimeOffset]
        $flag.LastModified.Offset | Should -Be ([TimeSpan]::Zero)
    }

    It 'accepts the Key alias for -Flag' {
        (Get-Flag -Key new_scheduler -Environment staging).On | Should -BeTrue
    }

    It 'matches wildcards case-insensitively: <Pattern>' -ForEach @(
        @{ Pattern = 'new_*'; Expected = @('new_billing_engine', 'new_scheduler') }
        @{ Pattern = 'NEW_*'; Expected = @('new_billing_engine', 'new_scheduler') }
        @{ Pattern = '*portal*'; Expected = @('patient_portal_v2') }
        @{ Pattern = 'new_?cheduler'; Expected = @('new_scheduler') }
        @{ Pattern = 'nothing*'; Expected = @() }
    ) {
        $found = @(Get-Flag -Flag $Pattern -Environment staging -ErrorVariable errors)
        @($found.Flag | Sort-Object) | Should -Be $Expected
        $errors | Should -BeNullOrEmpty
    }

    It 'matches wildcards across all environments' {
        $found = @(Get-Flag -Flag 'new_*')
        @($found | ForEach-Object { "$($_.Environment)/$($_.Flag)" } | Sort-Object) |
            Should -Be @('production/new_billing_engine', 'production/new_reports', 'staging/new_billing_engine', 'staging/new_scheduler')
    }

    It 'takes Flag and Environment from the pipeline by property name' {
        $found = @([pscustomobject]@{ Flag = 'new_reports'; Environment = 'production' }, [pscustomobject]@{ Key = 'new_scheduler'; Environment = 'staging' } | Get-Flag)
        $found.Flag | Should -Be @('new_reports', 'new_scheduler')
        $found.Environment | Should -Be @('production', 'staging')
    }
}

Describe 'Set-FlagPercentage' -Tag LocalStore {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'changes exactly one flag''s value and leaves every other byte of the document alone' {
        $before = [IO.File]::ReadAllText($sandbox.FlagFile)
        $record = Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 5 -Reason 'Gradual rollout - Phase 1 (5% of users)' -ApprovalTicket 'TICKET-12345'
        $after = [IO.File]::ReadAllText($sandbox.FlagFile)
        $after | Should -Be $before.Replace('"new_billing_engine":   false', '"new_billing_engine":   { "enabled": true, "rollout_percentage": 5 }')
        $record.Changed | Should -BeTrue
    }

    It 'edits a rollout object in place, keeping its other keys' {
        $before = [IO.File]::ReadAllText($sandbox.FlagFile)
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 12.5 -Reason 'r'
        [IO.File]::ReadAllText($sandbox.FlagFile) | Should -Be $before.Replace('"rollout_percentage": 10, "owner"', '"rollout_percentage": 12.5, "owner"')
    }

    It 'switches a disabled rollout object on at the new percentage' {
        $null = Set-FlagPercentage -Flag patient_portal_v2 -Environment staging -Percentage 40 -Reason 'r'
        $value = (Read-FlagDocument $sandbox.FlagFile).staging.patient_portal_v2
        $value.enabled | Should -BeTrue
        $value.rollout_percentage | Should -Be 40
    }

    It 'returns a change record with before, after, who, why and the audit sequence' {
        $record = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 25 -Reason 'Gradual rollout - Phase 2 (25% of users)' -ApprovalTicket 'TICKET-12345' -User 'admin@pms.example.com'
        $record.GetType().Name | Should -Be 'FlagChangeRecord'
        $record.Flag | Should -Be 'telehealth_appointments_enabled'
        $record.Environment | Should -Be 'production'
        $record.PreviousOn | Should -BeFalse
        $record.PreviousPercentage | Should -Be 0
        $record.On | Should -BeTrue
        $record.Percentage | Should -Be 25
        $record.Changed | Should -BeTrue
        $record.User | Should -Be 'admin@pms.example.com'
        $record.Reason | Should -Be 'Gradual rollout - Phase 2 (25% of users)'
        $record.ApprovalTicket | Should -Be 'TICKET-12345'
        $record.AuditSequence | Should -Be 1
        $record.AuditSpooled | Should -BeFalse
        $record.Store | Should -Be $sandbox.Store.Name
        $record.Timestamp.Offset | Should -Be ([TimeSpan]::Zero)
    }

    It 'records the playbook''s audit entry in the ledger' {
        $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 25 -Reason 'Gradual rollout - Phase 2 (25% of users)' -ApprovalTicket 'TICKET-12345' -User 'admin@pms.example.com'
        $line = Read-LedgerLine $sandbox.LedgerPath
        $line.Count | Should -Be 1
        $line[0].event_type | Should -Be 'feature_flag_toggled'
        $line[0].user_id | Should -Be 'admin@pms.example.com'
        $line[0].feature_flag | Should -Be 'telehealth_appointments_enabled'
        $line[0].previous_state | Should -BeFalse
        $line[0].new_state | Should -BeTrue
        $line[0].environment | Should -Be 'production'
        $line[0].reason | Should -Be 'Gradual rollout - Phase 2 (25% of users)'
        $line[0].rollout_percentage | Should -Be 25
        $line[0].approval_ticket | Should -Be 'TICKET-12345'
        $line[0].outcome | Should -Be 'applied'
        $line[0].timestamp | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'
    }

    It 'sets a plain boolean to true at 100%' {
        $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 100 -Reason 'full exposure'
        (Read-FlagDocument $sandbox.FlagFile).staging.telehealth_appointments_enabled | Should -BeTrue
    }

    It 'accepts three decimals' {
        (Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 33.333 -Reason 'r').Percentage | Should -Be 33.333
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler.rollout_percentage | Should -Be 33.333
    }

    It 'uses the store''s default environment when -Environment is omitted' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile -Environment staging
        (Set-FlagPercentage -Flag new_scheduler -Percentage 60 -Reason 'r').Environment | Should -Be 'staging'
        (Get-Flag -Flag new_scheduler -Environment staging).Percentage | Should -Be 60
    }

    It 'leaves the document byte-identical when the flag already has the percentage, and records outcome unchanged' {
        $before = Get-FileSnapshot $sandbox.FlagFile
        $record = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 10 -Reason 'r'
        $record.Changed | Should -BeFalse
        Get-FileSnapshot $sandbox.FlagFile | Should -Be $before
        (Read-LedgerLine $sandbox.LedgerPath)[0].outcome | Should -Be 'unchanged'
    }

    It 'takes -Store and -Ledger instead of the session''s' {
        $otherFile = Join-Path $sandbox.Root 'other.json'
        [IO.File]::WriteAllText($otherFile, '{ "qa": { "x": false } }')
        $store = Connect-FlagStore -Path $otherFile -NoDefault
        $ledger = Connect-FlagLedger -Path (Join-Path $sandbox.Root 'other.jsonl') -NoDefault
        $null = Set-FlagPercentage -Flag x -Environment qa -Percentage 5 -Reason 'r' -Store $store -Ledger $ledger
        (Get-Flag -Store $store).Percentage | Should -Be 5
        @(Get-FlagAudit -Ledger $ledger).Count | Should -Be 1
        Test-Path $sandbox.LedgerPath | Should -BeTrue
        @(Get-FlagAudit).Count | Should -Be 0   # the session ledger saw nothing
    }
}

Describe 'Enable-Flag and Disable-Flag' -Tag LocalStore {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Enable-Flag turns false into true' {
        $record = Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'staging validation' -Force
        $record.On | Should -BeTrue
        $record.Percentage | Should -Be 100
        (Read-FlagDocument $sandbox.FlagFile).staging.telehealth_appointments_enabled | Should -BeTrue
    }

    It 'Enable-Flag re-enables a rollout object at its stored percentage' {
        $before = [IO.File]::ReadAllText($sandbox.FlagFile)
        $record = Enable-Flag -Flag patient_portal_v2 -Environment staging -Reason 'resume' -Force
        $record.Percentage | Should -Be 30
        [IO.File]::ReadAllText($sandbox.FlagFile) | Should -Be $before.Replace('{ "enabled": false, "rollout_percentage": 30 }', '{ "enabled": true, "rollout_percentage": 30 }')
    }

    It 'Enable-Flag in production records the ticket' {
        $null = Enable-Flag -Flag new_reports -Environment production -Reason 'launch' -ApprovalTicket 'TICKET-7' -Confirm:$false
        (Get-FlagAudit -Flag new_reports).ApprovalTicket | Should -Be 'TICKET-7'
    }

    It 'Disable-Flag turns true into false' {
        $record = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'errors' -Force
        $record.On | Should -BeFalse
        $record.PreviousOn | Should -BeTrue
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler | Should -BeFalse
    }

    It 'Disable-Flag keeps a rollout object''s percentage and other keys' {
        $before = [IO.File]::ReadAllText($sandbox.FlagFile)
        $null = Disable-Flag -Flag new_billing_engine -Environment staging -Reason 'errors' -Force
        [IO.File]::ReadAllText($sandbox.FlagFile) | Should -Be $before.Replace('{ "enabled": true, "rollout_percentage": 10, "owner"', '{ "enabled": false, "rollout_percentage": 10, "owner"')
    }

    It 'Disable-Flag needs no ticket in production, and the event says the flag went off' {
        $record = Disable-Flag -Flag patient_portal_v2 -Environment production -Reason 'stop harm' -Force
        $record.On | Should -BeFalse
        $event = Get-FlagAudit -Flag patient_portal_v2 -Environment production
        $event.PreviousState | Should -BeTrue
        $event.NewState | Should -BeFalse
        $event.RolloutPercentage | Should -Be 0
        $event.PreviousPercentage | Should -Be 25
        $event.ApprovalTicket | Should -BeNullOrEmpty
    }
}

Describe 'Pipeline binding by property name' -Tag LocalStore, Pipeline {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Get-Flag -Environment staging | Set-FlagPercentage changes every staging flag and nothing else' {
        $productionBefore = (Read-FlagDocument $sandbox.FlagFile).production | ConvertTo-Json -Compress
        $records = @(Get-Flag -Environment staging | Set-FlagPercentage -Percentage 50 -Reason 'Staging soak at 50%')
        $records.Count | Should -Be 4
        $records | ForEach-Object { $_.Percentage | Should -Be 50; $_.Environment | Should -Be 'staging' }
        Get-Flag -Environment staging | ForEach-Object { $_.On | Should -BeTrue; $_.Percentage | Should -Be 50 }
        (Read-FlagDocument $sandbox.FlagFile).production | ConvertTo-Json -Compress | Should -Be $productionBefore
        $events = @(Get-FlagAudit)
        $events.Count | Should -Be 4
        @($events.Sequence) | Should -Be @(1, 2, 3, 4)
        ($events.Flag | Sort-Object) | Should -Be (@('new_billing_engine', 'new_scheduler', 'patient_portal_v2', 'telehealth_appointments_enabled'))
    }

    It 'Get-Flag | Disable-Flag switches off what the wildcard found' {
        $null = Get-Flag -Flag 'new_*' -Environment staging | Disable-Flag -Reason 'reset' -Force
        (Get-Flag -Flag new_scheduler -Environment staging).On | Should -BeFalse
        (Get-Flag -Flag new_billing_engine -Environment staging).On | Should -BeFalse
        (Get-Flag -Flag patient_portal_v2 -Environment production).On | Should -BeTrue
    }

    It 'binds Key and Environment from any object' {
        $null = [pscustomobject]@{ Key = 'new_reports'; Environment = 'production' } | Set-FlagPercentage -Percentage 5 -Reason 'r' -ApprovalTicket 'T-1'
        (Get-Flag -Flag new_reports -Environment production).Percentage | Should -Be 5
    }

    It 'goes on with the next piped flag after one that does not exist' {
        $items = @(
            [pscustomobject]@{ Flag = 'new_scheduler'; Environment = 'staging' }
            [pscustomobject]@{ Flag = 'no_such_flag'; Environment = 'staging' }
            [pscustomobject]@{ Flag = 'telehealth_appointments_enabled'; Environment = 'staging' }
        )
        $records = @($items | Set-FlagPercentage -Percentage 15 -Reason 'r' -ErrorVariable errors -ErrorAction SilentlyContinue)
        $records.Flag | Should -Be @('new_scheduler', 'telehealth_appointments_enabled')
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'FlagNotFound,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $errors[0].TargetObject | Should -Be 'no_such_flag'
    }

    It 'Get-Flag output pipes into Get-FlagAudit' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 70 -Reason 'a'
        $null = Set-FlagPercentage -Flag new_reports -Environment production -Percentage 5 -Reason 'b' -ApprovalTicket 'T'
        $events = @(Get-Flag -Flag new_scheduler -Environment staging | Get-FlagAudit)
        $events.Count | Should -Be 1
        $events[0].Reason | Should -Be 'a'
    }
}

Describe 'Store fallback and session scope' -Tag LocalStore, Session {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'uses ./apps/backend/config/feature_flags.json when no store is connected, and says so' {
        $repo = Join-Path $sandbox.Root 'repo'
        $config = New-Item -ItemType Directory -Force (Join-Path $repo 'apps/backend/config')
        Copy-Item $sandbox.FlagFile (Join-Path $config 'feature_flags.json')
        $result = Invoke-InFreshRunspace -Location $repo -Script 'Get-Flag -Environment production -Verbose 4>&1'
        $flags = @($result.Output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $flags.Count | Should -Be 4
        $verbose = ($result.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
        $verbose | Should -BeLike "*No store connected; using the repository's flag document '$(Join-Path $config 'feature_flags.json')'*"
    }
}
