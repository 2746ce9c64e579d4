<#
.SYNOPSIS
    Chain verification throughput on 100,000 generated events (engine level; see PMS.Flags.Bench/Program.cs).
#>
param([string] $ModulePath, [string] $PwshDll)
$ErrorActionPreference = 'Stop'
dotnet run --project (Join-Path $PSScriptRoot 'PMS.Flags.Bench/PMS.Flags.Bench.csproj') -c Release -- 100000
if ($LASTEXITCODE) { throw "bench failed ($LASTEXITCODE)" }
