<#
.SYNOPSIS
    One Set-FlagPercentage in a warm session on a 5,000-flag x 3-environment document (goal <= 50 ms).
    Baseline in the same run: reading and rewriting the same document with Get-Content/Set-Content.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [string] $PwshDll, [int] $Runs = 41)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$dir = Join-Path ([IO.Path]::GetTempPath()) ("pms-flags-bench-" + [guid]::NewGuid())
$null = New-Item -ItemType Directory $dir
try {
    $env:PMS_FLAGS_STATE_DIR = Join-Path $dir 'state'
    $path = Join-Path $dir 'feature_flags.json'
    $doc = [ordered]@{}
    foreach ($environment in 'development', 'staging', 'production') {
        $flags = [ordered]@{}
        foreach ($i in 1..5000) {
            $flags["flag_$i"] = if ($i % 3) { [ordered]@{ enabled = $true; rollout_percentage = $i % 100 } } else { $false }
        }
        $doc[$environment] = $flags
    }
    $doc | ConvertTo-Json -Depth 5 | Set-Content $path
    $size = (Get-Item $path).Length
    Connect-FlagStore -Path $path | Out-Null
    Connect-FlagLedger -Path (Join-Path $dir 'audit.jsonl') | Out-Null

    foreach ($i in 1..5) { $null = Set-FlagPercentage -Flag flag_2500 -Environment staging -Percentage (10 + $i) -Reason 'warm-up' }
    $set = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Set-FlagPercentage -Flag flag_2500 -Environment staging -Percentage ($i % 100) -Reason 'bench'
        $sw.Elapsed.TotalMilliseconds
    }
    $rewrite = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Get-Content -Raw $path | Set-Content -NoNewline $path
        $sw.Elapsed.TotalMilliseconds
    }
    $setMedian = ($set | Sort-Object)[[int]($Runs / 2)]
    $rewriteMedian = ($rewrite | Sort-Object)[[int]($Runs / 2)]
    'Set-FlagPercentage on 5,000 flags x 3 environments ({0:N0} KB): median {1:N1} ms over {2} runs (goal <= 50 ms)' -f ($size / 1KB), $setMedian, $Runs
    'baseline Get-Content -Raw | Set-Content of the same file: median {0:N1} ms; ratio {1:N2}x' -f $rewriteMedian, ($setMedian / $rewriteMedian)
}
finally {
    Remove-Item $dir -Recurse -Force
}
