<#
.SYNOPSIS
    Signed checkpoints: chain + checkpoint verification on 1,000,000 events against reading the lines (ratio, same
    run); connect-time verification with 1,000 unsealed events; and the cost a checkpoint adds to one
    Set-FlagPercentage (median of the same run, with and without a signing key).
#>
param([string] $ModulePath, [string] $PwshDll, [int] $Events = 1000000, [int] $Changes = 25)
$ErrorActionPreference = 'Stop'
dotnet run --project (Join-Path $PSScriptRoot 'PMS.Flags.Bench/PMS.Flags.Bench.csproj') -c Release -- checkpoints $Events 1000
if ($LASTEXITCODE) { throw "bench failed ($LASTEXITCODE)" }

Import-Module $ModulePath
$root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-bench-seal-' + [guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory $root
try {
    $env:PMS_FLAGS_STATE_DIR = Join-Path $root 'state'
    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $keyPath = Join-Path $root 'signing.pem'
    Set-Content -LiteralPath $keyPath -Value $key.ExportECPrivateKeyPem()
    $flagFile = Join-Path $root 'feature_flags.json'
    '{ "staging": { "bench_flag": { "enabled": true, "rollout_percentage": 0 } } }' | Set-Content -LiteralPath $flagFile
    $null = Connect-FlagStore -Path $flagFile

    function Measure-Median([string] $Ledger, [hashtable] $Connect) {
        $null = Connect-FlagLedger -Path $Ledger @Connect 3>$null
        $null = Set-FlagPercentage -Flag bench_flag -Environment staging -Percentage 1 -Reason 'warm-up'
        $times = foreach ($i in 1..$Changes) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Set-FlagPercentage -Flag bench_flag -Environment staging -Percentage ($i % 100) -Reason 'bench'
            $watch.Elapsed.TotalMilliseconds
        }
        ($times | Sort-Object)[[math]::Floor($times.Count / 2)]
    }

    # Interleaved in one run, so both medians see the same machine load.
    $plain = Measure-Median (Join-Path $root 'plain.jsonl') @{}
    $sealed = Measure-Median (Join-Path $root 'sealed.jsonl') @{ SigningKeyPath = $keyPath }
    $plainAgain = Measure-Median (Join-Path $root 'plain.jsonl') @{}
    $plain = [math]::Min($plain, $plainAgain)
    '{0}: Set-FlagPercentage median {1:N1} ms without a signing key, {2:N1} ms with one: a checkpoint adds {3:N1} ms ({4:N2}x)' -f $Changes, $plain, $sealed, ($sealed - $plain), ($sealed / $plain)
}
finally {
    Remove-Item -LiteralPath $root -Recurse -Force -ErrorAction SilentlyContinue
}
