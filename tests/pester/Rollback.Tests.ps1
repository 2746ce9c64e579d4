#Requires -Version 7.4
# Invoke-EmergencyRollback's result and steps, and switching off when the ledger is down: the flag goes off anyway,
# its events are spooled, and a later command with the ledger back writes them.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Invoke-EmergencyRollback' -Tag Rollback {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'switches the flag off and returns the timed result' {
        $before = [DateTimeOffset]::UtcNow
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'Error rate above 5% after rollout to 25%' -ApprovalTicket 'INC-2001' -User 'oncall@pms.example.com' -Force
        $after = [DateTimeOffset]::UtcNow

        $result.GetType().Name | Should -Be 'RollbackResult'
        $result.Flag | Should -Be 'patient_portal_v2'
        $result.Environment | Should -Be 'production'
        $result.Store | Should -Be $sandbox.Store.Name
        $result.StartedAt | Should -BeOfType [DateTimeOffset]
        $result.StartedAt.Offset | Should -Be ([TimeSpan]::Zero)
        $result.StartedAt | Should -BeGreaterOrEqual $before
        $result.FlagOffAt | Should -BeGreaterOrEqual $result.StartedAt
        $result.CompletedAt | Should -BeGreaterOrEqual $result.FlagOffAt
        $result.CompletedAt | Should -BeLessOrEqual $after
        $result.Duration | Should -BeOfType [TimeSpan]
        $result.Duration | Should -Be ($result.CompletedAt - $result.StartedAt)
        $result.TimeToFlagOff | Should -Be ($result.FlagOffAt - $result.StartedAt)
        $result.Verified | Should -BeTrue
        $result.WithinSla | Should -Be ($result.Verified -and $result.Duration -le [TimeSpan]::FromMinutes(5)) -Because 'WithinSla is a verified flag-off inside five minutes; how fast it was is a figure, not a bound'
        $result.PreviousOn | Should -BeTrue
        $result.PreviousPercentage | Should -Be 25
        $result.AuditSpooled | Should -BeFalse
        $result.AuditSequence | Should -Be 2

        # The playbook's spelling of off; the 25% it had is in the ledger, for Enable-Flag to restore.
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2 | Should -BeExactly $false
    }

    It 'reports each step in order with its status and timing' {
        $result = Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'incident' -Force
        $steps = @($result.Steps)
        $steps.Name | Should -Be @('FlagOff', 'Audit', 'Verify')
        $steps.Status | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        foreach ($step in $steps) {
            $step.Duration | Should -BeOfType [TimeSpan]
            $step.Duration | Should -BeLessOrEqual $result.Duration
            $step.StartedAt | Should -BeGreaterOrEqual $result.StartedAt
            $step.Message | Should -Not -BeNullOrEmpty
        }
        $steps[0].Message | Should -Be 'switched off'
        $steps[1].Message | Should -Be 'ledger #1'
        $steps[0].Duration | Should -Be $result.TimeToFlagOff
        $steps[1].StartedAt | Should -BeGreaterOrEqual $steps[0].StartedAt
        $steps[2].StartedAt | Should -BeGreaterOrEqual $steps[1].StartedAt
    }

    It 'records the toggle and an emergency_rollback summary with the step timings' {
        $result = Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'incident 42' -ApprovalTicket 'INC-42' -User 'oncall' -Force
        $events = @(Get-FlagAudit -Flag new_scheduler)
        $events.EventType | Should -Be @('feature_flag_toggled', 'emergency_rollback')
        $events | ForEach-Object {
            $_.UserId | Should -Be 'oncall'
            $_.Reason | Should -Be 'incident 42'
            $_.ApprovalTicket | Should -Be 'INC-42'
            $_.PreviousState | Should -BeTrue
            $_.NewState | Should -BeFalse
        }
        $events[1].Outcome | Should -Be 'succeeded'
        $details = $events[1].Details | ConvertFrom-Json
        @($details.steps.name) | Should -Be @('FlagOff', 'Audit', 'Verify')
        @($details.steps.status) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        $details.time_to_flag_off_ms | Should -Be ([long][Math]::Truncate($result.TimeToFlagOff.TotalMilliseconds)) -Because 'the ledger records whole milliseconds'
        $result.AuditSequence | Should -Be $events[1].Sequence
    }

    It 'is idempotent: a flag already off stays off and the step says so' {
        $result = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'belt and braces' -Force
        $result.Verified | Should -BeTrue
        $result.PreviousOn | Should -BeFalse
        $result.Steps[0].Message | Should -Be 'was already off'
        (Read-FlagDocument $sandbox.FlagFile).production.telehealth_appointments_enabled | Should -BeFalse
    }

    It 'rolls back every flag piped to it' {
        $results = @(Get-Flag -Flag new_* -Environment staging | Invoke-EmergencyRollback -Reason 'family rollback' -Force)
        $results.Flag | Should -Be @('new_billing_engine', 'new_scheduler')
        $results | ForEach-Object { $_.Verified | Should -BeTrue; $_.WithinSla | Should -Be ($_.Duration -le [TimeSpan]::FromMinutes(5)) }
        (Get-Flag -Flag new_* -Environment staging).On | Should -Be @($false, $false)
    }
}

Describe 'Switching off with the ledger down' -Tag Rollback, Ledger, Spool {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $bad = New-UnwritableLedger $sandbox
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Disable-Flag still switches the flag off, spools its event and warns; a later command flushes the spool' {
        $record = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'stop harm' -Ledger $bad.Ledger -Force -WarningVariable warnings 3>$null
        $record.On | Should -BeFalse
        $record.AuditSpooled | Should -BeTrue
        $record.AuditSequence | Should -BeNullOrEmpty
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler | Should -BeFalse
        ($warnings -join "`n") | Should -BeLike '*spooled*'
        $spooled = @(Get-SpoolFile $sandbox)
        $spooled.Count | Should -Be 1
        (Get-Content -Raw $spooled[0].FullName | ConvertFrom-Json).feature_flag | Should -Be 'new_scheduler'

        # The ledger comes back: the next change through it writes the spooled event first, then its own.
        Remove-Item -LiteralPath $bad.Blocker
        $next = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'resume' -Ledger $bad.Ledger
        $next.AuditSequence | Should -Be 2
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
        $events = @(Get-FlagAudit -Ledger $bad.Ledger)
        $events.Count | Should -Be 2
        $events[0].FeatureFlag | Should -Be 'new_scheduler'
        $events[0].NewState | Should -BeFalse
        $events[0].Reason | Should -Be 'stop harm'
        $events[0].Timestamp | Should -BeLessOrEqual $events[1].Timestamp
        $events[1].FeatureFlag | Should -Be 'telehealth_appointments_enabled'
        (Test-FlagAuditChain -Ledger $bad.Ledger).Valid | Should -BeTrue
    }

    It 'Invoke-EmergencyRollback still switches the flag off, marks the audit step Spooled, and Connect-FlagLedger flushes the spool' {
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'incident' -Ledger $bad.Ledger -Force -WarningVariable warnings 3>$null
        $result.Verified | Should -BeTrue
        $result.AuditSpooled | Should -BeTrue
        $result.AuditSequence | Should -BeNullOrEmpty
        $result.Steps[0].Status | Should -Be 'Succeeded'
        $result.Steps[1].Status | Should -Be 'Spooled'
        $result.Steps[2].Status | Should -Be 'Succeeded'
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2.enabled | Should -BeFalse
        $warnings.Count | Should -BeGreaterOrEqual 1
        @(Get-SpoolFile $sandbox).Count | Should -Be 2

        Remove-Item -LiteralPath $bad.Blocker
        $null = New-Item -ItemType Directory $bad.Blocker
        $null = Connect-FlagLedger -Path $bad.Path -WarningVariable flushWarnings 3>$null
        ($flushWarnings -join "`n") | Should -BeLike '*Wrote 2 spooled audit event(s)*'
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
        $events = @(Get-FlagAudit)
        $events.EventType | Should -Be @('feature_flag_toggled', 'emergency_rollback')
        $events.Sequence | Should -Be @(1, 2)
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }

    It 'switches off even when neither the ledger nor the spool can record it, and hands the event over in the error' {
        $blockedState = Join-Path $sandbox.Root 'state-blocker'
        Set-Content -LiteralPath $blockedState -Value 'x'
        $env:PMS_FLAGS_STATE_DIR = Join-Path $blockedState 'state'
        try { Disable-Flag -Flag new_scheduler -Environment staging -Reason 'stop harm' -Ledger $bad.Ledger -Force; throw 'expected AuditNotRecorded' }
        catch { $failure = $_ }
        finally { $env:PMS_FLAGS_STATE_DIR = $sandbox.StateDir }
        $failure.FullyQualifiedErrorId | Should -Be 'AuditNotRecorded,PMS.Flags.Cmdlets.Commands.DisableFlagCommand'
        $failure.Exception.Message | Should -BeLike '*The change WAS made*'
        $failure.Exception.Message | Should -BeLike '*"feature_flag":"new_scheduler"*'
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler | Should -BeFalse
    }

    It 'spools only for the ledger that failed: another ledger does not take the events' {
        $null = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'stop harm' -Ledger $bad.Ledger -Force 3>$null
        $null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'other ledger'
        @(Get-FlagAudit).Count | Should -Be 1
        @(Get-SpoolFile $sandbox).Count | Should -Be 1
    }
}
