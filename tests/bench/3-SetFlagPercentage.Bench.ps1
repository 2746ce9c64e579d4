<#
.SYNOPSIS
    One Set-FlagPercentage in a warm session on a 5,000-flag x 3-environment document (goal <= 50 ms).
    Baselines in the same run: reading and rewriting the same document with Get-Content/Set-Content (no fsync), and the
    same read and rewrite made as durable as the module's change: temporary file, fsync, rename, directory fsync, plus one
    fsync'd line appended to a second file (the ledger's append). The module may not skip those fsyncs, so the second
    ratio is the honest one; the first is printed because it is the figure the goal was set against.
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
    # CPU time beside wall time: on a shared, loaded machine the wall-clock medians swing with the neighbours, the CPU
    # this process spent per call does not.
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $cpu = { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }
    $cpuStart = & $cpu
    $set = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Set-FlagPercentage -Flag flag_2500 -Environment staging -Percentage ($i % 100) -Reason 'bench'
        $sw.Elapsed.TotalMilliseconds
    }
    $setCpu = ((& $cpu) - $cpuStart) / $Runs
    $cpuStart = & $cpu
    $rewrite = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Get-Content -Raw $path | Set-Content -NoNewline $path
        $sw.Elapsed.TotalMilliseconds
    }
    $rewriteCpu = ((& $cpu) - $cpuStart) / $Runs
    if (-not ('PmsBench.Fsync' -as [type])) {
        Add-Type -Namespace PmsBench -Name Fsync -MemberDefinition @'
[System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags);
[System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern int fsync(int fd);
[System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern int close(int fd);
'@
    }
    $utf8 = [Text.UTF8Encoding]::new($false)
    $journal = Join-Path $dir 'journal.log'
    $line = $utf8.GetBytes(('{"event":"bench","padding":"' + ('x' * 600) + '"}') + "`n")
    $cpuStart = & $cpu
    $durable = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $text = Get-Content -Raw $path
        $temporary = "$path.bench.tmp"
        $stream = [IO.FileStream]::new($temporary, [IO.FileMode]::Create, [IO.FileAccess]::Write)
        try { $bytes = $utf8.GetBytes($text); $stream.Write($bytes, 0, $bytes.Length); $stream.Flush($true) } finally { $stream.Dispose() }
        [IO.File]::Move($temporary, $path, $true)
        $fd = [PmsBench.Fsync]::open($dir, 0x10000); $null = [PmsBench.Fsync]::fsync($fd); $null = [PmsBench.Fsync]::close($fd)
        $append = [IO.FileStream]::new($journal, [IO.FileMode]::Append, [IO.FileAccess]::Write)
        try { $append.Write($line, 0, $line.Length); $append.Flush($true) } finally { $append.Dispose() }
        $sw.Elapsed.TotalMilliseconds
    }
    $durableCpu = ((& $cpu) - $cpuStart) / $Runs
    $setMedian = ($set | Sort-Object)[[int]($Runs / 2)]
    $rewriteMedian = ($rewrite | Sort-Object)[[int]($Runs / 2)]
    $durableMedian = ($durable | Sort-Object)[[int]($Runs / 2)]
    'Set-FlagPercentage on 5,000 flags x 3 environments ({0:N0} KB): median {1:N1} ms over {2} runs (goal <= 50 ms)' -f ($size / 1KB), $setMedian, $Runs
    'baseline Get-Content -Raw | Set-Content of the same file (no fsync): median {0:N1} ms; ratio {1:N2}x (goal <= 2x)' -f $rewriteMedian, ($setMedian / $rewriteMedian)
    'durable baseline (Get-Content -Raw, temp file + fsync + rename + directory fsync, one fsync''d appended line): median {0:N1} ms; ratio {1:N2}x' -f $durableMedian, ($setMedian / $durableMedian)
    'CPU time per call (this process, mean): Set-FlagPercentage {0:N1} ms; Get-Content/Set-Content {1:N1} ms (ratio {2:N2}x); durable baseline {3:N1} ms (ratio {4:N2}x)' -f $setCpu, $rewriteCpu, ($setCpu / $rewriteCpu), $durableCpu, ($setCpu / $durableCpu)
}
finally {
    Remove-Item $dir -Recurse -Force
}
