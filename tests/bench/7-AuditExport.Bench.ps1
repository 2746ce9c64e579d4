<#
.SYNOPSIS
    Export-FlagAudit in constant memory: a generated, valid JSONL ledger of 100,000 and of 1,000,000 events (the bench
    project's generator), exported with `Get-FlagAudit | Export-FlagAudit` in every format, each run in a fresh child
    pwsh that then reports its peak working set and its managed heap. Constant memory shows as a 1M/100k ratio near 1.
    For comparison, the buffering implementation this replaced, run with this script at 100,000 events on the same
    machine, peaked at 1,491 MB (Json), 450 MB (Csv) and 480 MB (Html), against about 145 MB streamed.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $PwshDll, [int[]] $Sizes = @(100000, 1000000), [string[]] $Formats = @('Json', 'Csv', 'Html', 'Jsonl'))
$ErrorActionPreference = 'Stop'
$work = Join-Path ([IO.Path]::GetTempPath()) ("pms-flags-export-bench-" + [guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory $work
try {
    $results = @{}
    foreach ($size in $Sizes) {
        $ledger = Join-Path $work "audit-$size.jsonl"
        dotnet run --project (Join-Path $PSScriptRoot 'PMS.Flags.Bench/PMS.Flags.Bench.csproj') -c Release -- generate-jsonl $ledger $size
        if ($LASTEXITCODE) { throw "generating $size events failed ($LASTEXITCODE)" }
        foreach ($format in $Formats) {
            $export = Join-Path $work "export-$size.$($format.ToLowerInvariant())"
            # The child's state folder is the bench's own, so no spool or default ledger of the machine is read.
            $command = @"
`$ErrorActionPreference = 'Stop'
`$env:PMS_FLAGS_STATE_DIR = '$work/state'
Import-Module '$ModulePath'
`$ledger = Connect-FlagLedger -Path '$ledger' -NoDefault -SkipVerification 3>`$null
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$null = Get-FlagAudit -Ledger `$ledger | Export-FlagAudit -Format $format -Path '$export' -Ledger `$ledger -Force
`$seconds = `$sw.Elapsed.TotalSeconds
`$process = [Diagnostics.Process]::GetCurrentProcess()
'{0}|{1}|{2}' -f `$process.PeakWorkingSet64, [GC]::GetTotalMemory(`$false), `$seconds
"@
            $output = dotnet $PwshDll -NoProfile -NonInteractive -Command $command
            if ($LASTEXITCODE) { throw "export of $size events as $format failed ($LASTEXITCODE): $output" }
            $fields = ($output | Select-Object -Last 1).Split('|')
            $results["$size/$format"] = [pscustomobject]@{
                Events = $size; Format = $format; PeakWorkingSetMB = [double]$fields[0] / 1MB; HeapAtEndMB = [double]$fields[1] / 1MB
                Seconds = [double]$fields[2]; FileMB = (Get-Item $export).Length / 1MB
            }
            $r = $results["$size/$format"]
            'export {0,9:N0} events as {1,-4}: peak working set {2,7:N1} MB, managed heap at end {3,6:N1} MB, {4,6:N1} s, file {5,8:N1} MB' -f $size, $format, $r.PeakWorkingSetMB, $r.HeapAtEndMB, $r.Seconds, $r.FileMB
            Remove-Item $export
        }
    }

    if ($Sizes.Count -ge 2) {
        $small, $large = ($Sizes | Sort-Object)[0], ($Sizes | Sort-Object)[-1]
        foreach ($format in $Formats) {
            'peak working set {0}: {1:N0} / {2:N0} events = {3:N2}x for {4:N0}x the events (constant memory => near 1)' -f $format, $large, $small, ($results["$large/$format"].PeakWorkingSetMB / $results["$small/$format"].PeakWorkingSetMB), ($large / $small)
        }
    }
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
