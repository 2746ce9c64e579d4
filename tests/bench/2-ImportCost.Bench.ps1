<#
.SYNOPSIS
    Import cost: median wall time of `pwsh -NoProfile -c 'Import-Module <built psd1>'` over the median of
    `pwsh -NoProfile -c exit`, both measured in this run (goal <= 1.15).
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $PwshDll, [int] $Runs = 11)
$ErrorActionPreference = 'Stop'

function Measure-Median([string] $Command) {
    $times = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        dotnet $PwshDll -NoProfile -NonInteractive -Command $Command
        if ($LASTEXITCODE) { throw "'$Command' failed ($LASTEXITCODE)" }
        $sw.Elapsed.TotalMilliseconds
    }
    ($times | Sort-Object)[[int][Math]::Floor($Runs / 2)]
}

$null = Measure-Median 'exit'   # warm the disk cache for both
$baseline = Measure-Median 'exit'
$import = Measure-Median "Import-Module '$ModulePath'"
$firstUse = Measure-Median "Import-Module '$ModulePath'; `$null = Get-Command Set-FlagPercentage -Syntax"
'import cost: pwsh exit median {0:N0} ms; Import-Module median {1:N0} ms; ratio {2:N3} (goal <= 1.15)' -f $baseline, $import, ($import / $baseline)
'import + command metadata: median {0:N0} ms; ratio {1:N3}' -f $firstUse, ($firstUse / $baseline)
