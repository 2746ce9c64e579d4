#Requires -Version 7.4
# What a user sees of the audit-integrity guarantees: narration and CI reporting never interrupt work that must finish.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Sinks never interrupt must-finish work' -Tag AuditIntegrity {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $bad = New-UnwritableLedger $sandbox
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'an emergency rollback under -WarningAction Stop still switches off, records (spools) every event, then stops' {
        # The first warning ("spooled") becomes a terminating error on the pipeline thread; the engine carries on.
        { Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'incident' -ApprovalTicket INC-9 -Ledger $bad.Ledger -Force -WarningAction Stop } | Should -Throw

        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2.enabled | Should -BeFalse
        $spooled = @(Get-SpoolFile $sandbox | ForEach-Object { Get-Content -Raw $_.FullName | ConvertFrom-Json })
        @($spooled.event_type) | Should -Contain 'feature_flag_toggled'
        @($spooled.event_type) | Should -Contain 'emergency_rollback'
    }
}
