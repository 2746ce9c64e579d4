#Requires -Version 7.4
# Verbose narration: a user can see which store and ledger a command uses and what it asks them to do.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Verbose narration' -Tag Verbose, Session {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach {
        $env:PMS_FLAGS_LEDGER = $null
        Remove-FlagSandbox $sandbox
    }

    It 'names the default ledger in the state folder when no ledger is connected' {
        $result = Invoke-InFreshRunspace -Location $sandbox.Root -ArgumentList $sandbox.FlagFile -Script @'
param($flagFile)
$null = Connect-FlagStore -Path $flagFile
Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Verbose 4>&1
'@
        $verbose = @($result.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
        $expected = Join-Path $sandbox.StateDir 'audit.jsonl'
        $verbose | Should -BeLike "*No ledger connected; using the default ledger '$expected'*"
        $record = $result.Output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $record.AuditSequence | Should -Be 1
        @(Get-Content -LiteralPath $expected).Count | Should -Be 1
    }

    It 'names $env:PMS_FLAGS_LEDGER as the default ledger when it is set' {
        $env:PMS_FLAGS_LEDGER = Join-Path $sandbox.Root 'from-variable.jsonl'
        $result = Invoke-InFreshRunspace -Location $sandbox.Root -Script 'Get-FlagAudit -Verbose 4>&1'
        ($result.Output -join "`n") | Should -BeLike "*No ledger connected; using the default ledger '$env:PMS_FLAGS_LEDGER'*"
    }

    It 'narrates a change: the ledger check, the store call and the recorded sequence' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
        $verbose = @(Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'r' -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Should -Contain "Checking that the audit ledger Jsonl:$($sandbox.LedgerPath) can be written before changing anything."
        $verbose | Should -Contain "Asking LocalFile:$($sandbox.FlagFile) to set new_scheduler to 5% in staging."
        $verbose | Should -Contain "Recorded feature_flag_toggled as #1 in Jsonl:$($sandbox.LedgerPath)."
    }

    It 'narrates what Get-Flag reads and where' {
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $verbose = @(Get-Flag -Environment production -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Should -Contain "Reading flags in 'production' from LocalFile:$($sandbox.FlagFile)."
    }
}
