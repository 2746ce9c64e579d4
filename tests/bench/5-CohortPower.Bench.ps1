<#
.SYNOPSIS
    The cohort guardrail's power simulation (seeded, no Prometheus; see PMS.Flags.Bench/CohortPowerSimulation.cs): A/A
    false-rollback rate (goal <= 5 %), detection of a 2x regression at 5 % exposure within the first 30-minute stage
    (goal >= 90 %), median time to detect, and the playbook's threshold alert on the same traffic.
#>
param([string] $ModulePath, [string] $PwshDll, [int] $Runs = 1000, [int] $Seed = 20261203)
$ErrorActionPreference = 'Stop'
dotnet run --project (Join-Path $PSScriptRoot 'PMS.Flags.Bench/PMS.Flags.Bench.csproj') -c Release -- cohort-power $Runs $Seed
if ($LASTEXITCODE) { throw "bench failed ($LASTEXITCODE)" }
