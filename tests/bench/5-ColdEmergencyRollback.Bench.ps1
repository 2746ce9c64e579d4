<#
.SYNOPSIS
    Cold emergency rollback: in a fresh pwsh (a CI job, or a shell opened during an incident) import the module,
    connect a store and a ledger, and run Invoke-EmergencyRollback as the FIRST command. Prints the time from invoking
    it to the flag being off (the result's FlagOffAt), beside the warm figure of a second rollback in the same process,
    plus the import and connect times of the cold process. Medians over interleaved-free sequential runs.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $PwshDll, [int] $Runs = 9)
$ErrorActionPreference = 'Stop'

$work = Join-Path ([IO.Path]::GetTempPath()) ('pms-cold-rollback-' + [guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory $work
$child = Join-Path $work 'cold.ps1'
Set-Content -LiteralPath $child -Value @'
param($ModulePath, $Work)
$ErrorActionPreference = 'Stop'
$flagFile = Join-Path $Work 'feature_flags.json'
'{ "production": { "telehealth_appointments_enabled": { "enabled": true, "rollout_percentage": 25 } } }' | Set-Content -LiteralPath $flagFile
$env:PMS_FLAGS_STATE_DIR = Join-Path $Work 'state'
$sw = [Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath
$imported = $sw.Elapsed.TotalMilliseconds
$null = Connect-FlagStore -Path $flagFile
$null = Connect-FlagLedger -Path (Join-Path $Work 'audit.jsonl') 3>$null
$connected = $sw.Elapsed.TotalMilliseconds

$invokedAt = [DateTimeOffset]::UtcNow
$cold = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'bench: cold' -Force
$coldTotal = ([DateTimeOffset]::UtcNow - $invokedAt).TotalMilliseconds
$coldOff = ($cold.FlagOffAt - $invokedAt).TotalMilliseconds

$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 25 -Reason 'bench: on again' -ApprovalTicket BENCH-1
$invokedAt = [DateTimeOffset]::UtcNow
$warm = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'bench: warm' -Force
$warmTotal = ([DateTimeOffset]::UtcNow - $invokedAt).TotalMilliseconds
$warmOff = ($warm.FlagOffAt - $invokedAt).TotalMilliseconds
'{0:F3} {1:F3} {2:F3} {3:F3} {4:F3} {5:F3}' -f $imported, ($connected - $imported), $coldOff, $coldTotal, $warmOff, $warmTotal
'@

$rows = foreach ($i in 1..($Runs + 1)) {
    $round = Join-Path $work "r$i"
    $null = New-Item -ItemType Directory $round
    $line = dotnet $PwshDll -NoProfile -NonInteractive -File $child $ModulePath $round
    if ($LASTEXITCODE) { throw "The cold rollback run failed ($LASTEXITCODE): $line" }
    if ($i -gt 1) { , [double[]](($line | Select-Object -Last 1) -split ' ') }   # the first run only warms the disk cache
}
Remove-Item -LiteralPath $work -Recurse -Force
function Get-Median([int] $Column) { ($rows | ForEach-Object { $_[$Column] } | Sort-Object)[[int][Math]::Floor($rows.Count / 2)] }
'cold emergency rollback (fresh pwsh, first command): invocation to flag off median {0:N1} ms, whole command {1:N1} ms (goal <= 100 ms)' -f (Get-Median 2), (Get-Median 3)
'warm emergency rollback (same process, second rollback): invocation to flag off median {0:N2} ms, whole command {1:N2} ms' -f (Get-Median 4), (Get-Median 5)
'cold process before the rollback: Import-Module median {0:N0} ms, Connect-FlagStore + Connect-FlagLedger median {1:N0} ms; {2} runs' -f (Get-Median 0), (Get-Median 1), $rows.Count
