<#
.SYNOPSIS
    Runs the Pester suite against the BUILT module. build.ps1 starts this in a child pwsh so the dlls under test are
    never loaded into the session that builds them. Writes {Passed, Failed} to -SummaryPath.
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
if (-not $result) {
    # Pester reports some failures (no test files, a broken configuration) as an error record and no result.
    [ordered]@{ Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 } | ConvertTo-Json | Set-Content -Path $SummaryPath
    exit 1
}

# A container that fails to load hides its tests; count each as a failure so it can never pass silently.
# So does a run that found no test file at all: Invoke-Pester then only writes an error and returns nothing.
if ($null -eq $result) {
    [ordered]@{ Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 } | ConvertTo-Json | Set-Content -Path $SummaryPath
    Write-Error 'Pester returned no result: it found no *.Tests.ps1 file to run.' -ErrorAction Continue
    exit 1
}
$failed = $result.FailedCount + $result.FailedContainersCount + $result.FailedBlocksCount
[ordered]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount; NotRun = $result.NotRunCount } |
    ConvertTo-Json | Set-Content -Path $SummaryPath
if ($result.SkippedCount -gt 0) { Write-Warning "$($result.SkippedCount) Pester test(s) were skipped." }
exit ([int]($failed -gt 0))
