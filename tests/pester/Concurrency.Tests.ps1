#Requires -Version 7.4
# Two operators at once: two child pwsh processes change 20 different flags each in the same document and the same
# ledger, at the same time (a ready/go handshake, then a meeting after each one's first change, so they overlap). No
# change may be lost, and the ledger must stay one valid chain.

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
# Ready after the (slow) start-up; both start changing at the same moment, on the go signal.
Set-Content -LiteralPath "$Go.$Prefix.ready" -Value 'ready'
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while (-not (Test-Path $Go)) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no go signal' }; Start-Sleep -Milliseconds 5 }
foreach ($i in 0..19) {
    $flag = '{0}_flag_{1:D2}' -f $Prefix, $i
    $null = Set-FlagPercentage -Flag $flag -Percentage ($i + 1) -Reason "concurrency $Prefix $i" -User "worker-$Prefix"
    if ($i -eq 0) {
        # Meet after the first change, so the remaining 19 of each worker provably run at the same time.
        Set-Content -LiteralPath "$Go.$Prefix.started" -Value 'started'
        while (@(Get-ChildItem -LiteralPath (Split-Path $Go) -Filter "$(Split-Path -Leaf $Go).*.started").Count -lt 2) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the other worker never made its first change' }
            Start-Sleep -Milliseconds 5
        }
    }
}
'done'
'@
        $go = Join-Path $sandbox.Root 'go'
        $children = foreach ($prefix in 'a', 'b') {
            Start-ChildPwsh -ScriptPath $worker -ArgumentList @($env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $sandbox.LedgerPath, $prefix, $go)
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while (-not ((Test-Path "$go.a.ready") -and (Test-Path "$go.b.ready"))) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the workers did not get ready in 90 s' }
            if (@($children | Where-Object { $_.Process.HasExited }).Count) { throw "a worker exited before it was ready: $(($children | ForEach-Object { $_.Stderr.Result }) -join ' ')" }
            Start-Sleep -Milliseconds 20
        }
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
        # They overlapped: each worker has changes both before and after the other's first one.
        $firstA = [array]::FindIndex([object[]]$events, [Predicate[object]] { param($e) $e.UserId -eq 'worker-a' })
        $firstB = [array]::FindIndex([object[]]$events, [Predicate[object]] { param($e) $e.UserId -eq 'worker-b' })
        @($events | Select-Object -Skip $firstB | Where-Object UserId -EQ 'worker-a').Count | Should -BeGreaterThan 0
        @($events | Select-Object -Skip $firstA | Where-Object UserId -EQ 'worker-b').Count | Should -BeGreaterThan 0
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
    }
}
