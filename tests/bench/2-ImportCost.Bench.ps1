<#
.SYNOPSIS
    Import cost: median wall time of `pwsh -NoProfile -c 'Import-Module <built psd1>'` over the median of
    `pwsh -NoProfile -c exit`, both measured in this run (goal <= 1.15). The commands are interleaved in a random order each
    round, so that drift in the machine's load falls on every side alike.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $PwshDll, [int] $Runs = 21)
$ErrorActionPreference = 'Stop'

# A second baseline: importing an empty manifest module shows what PowerShell's own module machinery costs, so the
# module's own share can be told apart from it.
$emptyModule = Join-Path ([IO.Path]::GetTempPath()) ("pms-empty-module-" + [guid]::NewGuid())
$null = New-Item -ItemType Directory $emptyModule
"@{ ModuleVersion = '1.0.0'; FunctionsToExport = @(); CmdletsToExport = @() }" | Set-Content (Join-Path $emptyModule 'empty.psd1')

$commands = [ordered]@{
    exit      = 'exit'
    empty     = "Import-Module '$(Join-Path $emptyModule 'empty.psd1')'"
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
    # A fresh random order each round: on a shared VM the first process after a pause is often the slow one.
    foreach ($key in @($commands.Keys) | Sort-Object { Get-Random }) { $times[$key].Add((Invoke-Timed $commands[$key])) }
}
Remove-Item $emptyModule -Recurse -Force
$median = @{}
foreach ($key in $commands.Keys) { $median[$key] = ($times[$key] | Sort-Object)[[int][Math]::Floor($Runs / 2)] }
'import cost: pwsh exit median {0:N0} ms; Import-Module median {1:N0} ms; ratio {2:N3} (goal <= 1.15), {3} interleaved runs' -f $median.exit, $median.import, ($median.import / $median.exit), $Runs
'empty manifest module (PowerShell''s own module machinery): median {0:N0} ms; ratio {1:N3}; PMS.Flags over the empty module {2:N3}' -f $median.empty, ($median.empty / $median.exit), ($median.import / $median.empty)
'import + command metadata: median {0:N0} ms; ratio {1:N3}' -f $median.firstUse, ($median.firstUse / $median.exit)
