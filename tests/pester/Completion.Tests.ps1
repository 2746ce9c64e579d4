#Requires -Version 7.4
# Tab completion of -Flag and -Environment from the connected store.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText)
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Tab completion' -Tag Completion {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'completes -Flag of <Command> from the store' -ForEach @(
        @{ Command = 'Set-FlagPercentage' }, @{ Command = 'Enable-Flag' }, @{ Command = 'Disable-Flag' },
        @{ Command = 'Invoke-EmergencyRollback' }, @{ Command = 'Get-Flag' }, @{ Command = 'Get-FlagAudit' }
    ) {
        Get-Completion "$Command -Flag ne" | Should -Be @('new_billing_engine', 'new_scheduler')
    }

    It 'completes the flags of the environment already typed' {
        Get-Completion 'Set-FlagPercentage -Environment production -Flag ne' | Should -Be @('new_billing_engine', 'new_reports')
    }

    It 'completes the flags of the store''s default environment' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile -Environment production
        Get-Completion 'Set-FlagPercentage -Flag new_r' | Should -Be @('new_reports')
    }

    It 'completes every flag for an empty word, sorted' {
        Get-Completion 'Set-FlagPercentage -Flag ' | Should -Be @('new_billing_engine', 'new_scheduler', 'patient_portal_v2', 'telehealth_appointments_enabled')
    }

    It 'completes the positional flag argument' {
        Get-Completion 'Disable-Flag pat' | Should -Be @('patient_portal_v2')
    }

    It 'completes -Environment of <Command>' -ForEach @(
        @{ Command = 'Set-FlagPercentage' }, @{ Command = 'Get-Flag' }, @{ Command = 'Get-FlagAudit' }, @{ Command = 'Invoke-EmergencyRollback' }
    ) {
        Get-Completion "$Command -Environment " | Should -Be @('production', 'staging')
        Get-Completion "$Command -Environment pr" | Should -Be @('production')
    }

    It 'quotes a key that needs quoting' {
        [IO.File]::WriteAllText($sandbox.FlagFile, '{ "staging": { "flag with space": true, "plain": false } }')
        Get-Completion 'Get-Flag -Flag fl' | Should -Be @("'flag with space'")
    }

    It 'offers nothing, and does not throw, when the document is broken' {
        [IO.File]::WriteAllText($sandbox.FlagFile, '{ broken')
        Get-Completion 'Set-FlagPercentage -Flag ne' | Should -BeNullOrEmpty
    }
}
