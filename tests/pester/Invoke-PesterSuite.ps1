<#
.SYNOPSIS
    Runs the Pester suite against the BUILT module. build.ps1 starts this in a child pwsh so the dlls under test are
    never loaded into the session that builds them. Writes the counts (discovered, passed, failed, skipped, inconclusive, not run) and the names of the tests that did
    not run to -SummaryPath; build.ps1 turns them into the closing line.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $SummaryPath,
    [string] $Tag
)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Import-Module (Join-Path $root '.tools/packages/pester/6.2.0/tools/Pester.psd1')
$env:PMS_FLAGS_MODULE = Join-Path $ModuleDirectory 'PMS.Flags.psd1'
$env:PMS_FLAGS_REPO = $root

$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path (Split-Path $SummaryPath) 'pester.xml'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
$result = Invoke-Pester -Configuration $config
# The throwaway PostgreSQL cluster is one per run (test files started it through Start-TestPostgres): remove it now.
. (Join-Path $PSScriptRoot 'Servers.ps1')
Stop-TestPostgres

function Write-Summary([int] $Failed, $Result) {
    $names = { param($tests) @($tests | ForEach-Object { $_.ExpandedPath }) }
    [ordered]@{
        Discovered        = if ($Result) { $Result.TotalCount } else { 0 }
        Passed            = if ($Result) { $Result.PassedCount } else { 0 }
        TestsFailed       = if ($Result) { $Result.FailedCount } else { 0 }
        Failed            = $Failed
        Skipped           = if ($Result) { $Result.SkippedCount } else { 0 }
        Inconclusive      = if ($Result) { $Result.InconclusiveCount } else { 0 }
        NotRun            = if ($Result) { $Result.NotRunCount } else { 0 }
        SkippedNames      = if ($Result) { & $names $Result.Skipped } else { @() }
        InconclusiveNames = if ($Result) { & $names $Result.Inconclusive } else { @() }
        NotRunNames       = if ($Result) { & $names $Result.NotRun } else { @() }
    } | ConvertTo-Json -Depth 3 | Set-Content -Path $SummaryPath
}

# Pester reports some failures (no test files, a broken configuration) as an error record and no result: a run that
# found no test file at all only writes an error and returns nothing. Counted as a failure so it never passes.
if ($null -eq $result) {
    Write-Summary 1 $null
    Write-Error 'Pester returned no result: it found no *.Tests.ps1 file to run.' -ErrorAction Continue
    exit 1
}

# A container or block that fails to load hides its tests; each counts as a failure so it can never pass silently.
$failed = $result.FailedCount + $result.FailedContainersCount + $result.FailedBlocksCount
Write-Summary $failed $result
exit ([int]($failed -gt 0))
