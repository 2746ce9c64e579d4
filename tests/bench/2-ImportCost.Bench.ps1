<#
.SYNOPSIS
    Import cost: median wall time of `pwsh -NoProfile -c 'Import-Module <built psd1>'` over the median of
    `pwsh -NoProfile -c exit`, both measured in this run (goal <= 1.15). The commands are interleaved run by run, so
    that drift in the machine's load falls on both sides alike.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $PwshDll, [int] $Runs = 21)
$ErrorActionPreference = 'Stop'

$commands = [ordered]@{
    exit      = 'exit'
    import    = "Import-Module '$ModulePath'"
    firstUse  = "Import-Module '$ModulePath'; `$null = Get-Command Set-FlagPercentage -Syntax"
}
$times = @{}
foreach ($key in $commands.Keys) { $times[$key] = [System.Collections.Generic.List[double]]::new() }

function Invoke-Timed([string] $Command) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    dotnet $PwshDll -NoProfile -NonInteractive -Command $Command
    if ($LASTEXITCODE) { throw "'$Command' failed ($LASTEXITCODE)" }
    $sw.Elapsed.TotalMilliseconds
}

foreach ($key in $commands.Keys) { $null = Invoke-Timed $commands[$key] }   # warm the disk cache
foreach ($i in 1..$Runs) {
    foreach ($key in $commands.Keys) { $times[$key].Add((Invoke-Timed $commands[$key])) }
}
$median = @{}
foreach ($key in $commands.Keys) { $median[$key] = ($times[$key] | Sort-Object)[[int][Math]::Floor($Runs / 2)] }
'import cost: pwsh exit median {0:N0} ms; Import-Module median {1:N0} ms; ratio {2:N3} (goal <= 1.15), {3} interleaved runs' -f $median.exit, $median.import, ($median.import / $median.exit), $Runs
'import + command metadata: median {0:N0} ms; ratio {1:N3}' -f $median.firstUse, ($median.firstUse / $median.exit)
