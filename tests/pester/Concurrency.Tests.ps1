#Requires -Version 7.4
# Two operators at once: two child pwsh processes change 20 different flags each in the same document and the same
# ledger, at the same time. No change may be lost, and the ledger must stay one valid chain.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Concurrent writers through the module' -Tag Concurrency {
    BeforeEach {
        $flags = [ordered]@{}
        foreach ($prefix in 'a', 'b') { foreach ($i in 0..19) { $flags['{0}_flag_{1:D2}' -f $prefix, $i] = $false } }
        $document = [ordered]@{ staging = $flags; production = [ordered]@{ untouched = $true } } | ConvertTo-Json
        $sandbox = New-FlagSandbox -Document $document -NoConnect
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'keeps all 40 changes from two processes and writes one valid chain of 40 events' {
        $worker = Join-Path $sandbox.Root 'worker.ps1'
        Set-Content -LiteralPath $worker -Value @'
param($ModulePath, $FlagFile, $LedgerPath, $Prefix, $Go)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile -Environment staging
$null = Connect-FlagLedger -Path $LedgerPath
# Both processes start changing at the same moment, after their (slow) start-up.
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while (-not (Test-Path $Go)) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no go signal' }; Start-Sleep -Milliseconds 5 }
foreach ($i in 0..19) {
    $flag = '{0}_flag_{1:D2}' -f $Prefix, $i
    $null = Set-FlagPercentage -Flag $flag -Percentage ($i + 1) -Reason "concurrency $Prefix $i" -User "worker-$Prefix"
}
'done'
'@
        $go = Join-Path $sandbox.Root 'go'
        $children = foreach ($prefix in 'a', 'b') {
            Start-ChildPwsh -ScriptPath $worker -ArgumentList @($env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $sandbox.LedgerPath, $prefix, $go)
        }
        Start-Sleep -Milliseconds 200
        Set-Content -LiteralPath $go -Value 'go'
        foreach ($child in $children) {
            if (-not $child.Process.WaitForExit(90000)) { $child.Process.Kill(); throw 'a worker did not finish in 90 s' }
            $child.Process.WaitForExit()
            $report = "exit $($child.Process.ExitCode)`n$($child.Stdout.Result)`n$($child.Stderr.Result)"
            $child.Process.ExitCode | Should -Be 0 -Because $report
            $child.Stdout.Result | Should -Match 'done' -Because $report
        }

        $document = Read-FlagDocument $sandbox.FlagFile
        foreach ($prefix in 'a', 'b') {
            foreach ($i in 0..19) {
                $value = $document.staging['{0}_flag_{1:D2}' -f $prefix, $i]
                $value.enabled | Should -BeTrue
                $value.rollout_percentage | Should -Be ($i + 1)
            }
        }
        $document.production.untouched | Should -BeTrue

        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.Count | Should -Be 40
        $ledger = Connect-FlagLedger -Path $sandbox.LedgerPath -NoDefault
        $events = @(Get-FlagAudit -Ledger $ledger)
        @($events.Sequence) | Should -Be (1..40)
        @($events.Flag | Sort-Object -Unique).Count | Should -Be 40
        @($events | Where-Object UserId -EQ 'worker-a').Count | Should -Be 20
        @($events | Where-Object UserId -EQ 'worker-b').Count | Should -Be 20
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
    }
}
