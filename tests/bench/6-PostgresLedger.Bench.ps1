<#
.SYNOPSIS
    The PostgreSQL ledger at 1,000,000 events (a throwaway PostgreSQL 15 cluster, removed at the end): the engine
    figures from PMS.Flags.Bench (fill, append rate with 1 and 8 writers, chain verification, rollout fold), then
    Get-FlagAudit -Flag x -Since (30 days ago) through the module beside plain psql running the same indexed query in
    the same run (goal <= 20 ms median).
#>
param([Parameter(Mandatory)] [string] $ModulePath, [string] $PwshDll, [int] $Events = 1000000, [int] $Runs = 21)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
. (Join-Path $PSScriptRoot '../pester/Servers.ps1')
try {
    $db = New-TestDatabase 'benchledger'
    dotnet run --project (Join-Path $PSScriptRoot 'PMS.Flags.Bench/PMS.Flags.Bench.csproj') -c Release -- postgres-ledger $db.ConnectionString $Events
    if ($LASTEXITCODE) { throw "bench failed ($LASTEXITCODE)" }

    $ledger = Connect-FlagLedger -ConnectionString $db.ConnectionString -NoDefault
    $since = (Get-Date).AddDays(-30)
    $null = Get-FlagAudit -Ledger $ledger -Flag flag_7 -Since $since
    $ours = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $found = @(Get-FlagAudit -Ledger $ledger -Flag flag_7 -Since $since)
        $sw.Elapsed.TotalMilliseconds
    }

    # The same query in one psql session with \timing: server time plus psql's own, without a process start per run.
    $sinceSql = $since.ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss.fff')
    $query = "SELECT line FROM pms_flags.events WHERE lower(feature_flag) = lower('flag_7') AND ts >= '$sinceSql+00' ORDER BY sequence;"
    $script = "\timing on`n\o /dev/null`n" + (($query + "`n") * $Runs)
    $scriptFile = Join-Path $global:PmsTestPostgres.Root 'bench.sql'
    Set-Content -LiteralPath $scriptFile -Value $script
    if ([Environment]::UserName -eq 'root') { & chown postgres $scriptFile }
    $psql = '/usr/lib/postgresql/15/bin/psql'
    $arguments = @('-h', $global:PmsTestPostgres.Root, '-p', "$($global:PmsTestPostgres.Port)", '-U', 'postgres', '-d', $db.Name, '-X', '-q', '-f', $scriptFile)
    $timing = if ([Environment]::UserName -eq 'root') { & runuser -u postgres -- $psql @arguments 2>&1 } else { & $psql @arguments 2>&1 }
    $theirs = @($timing | Select-String 'Time: ([\d.]+) ms' | ForEach-Object { [double]$_.Matches[0].Groups[1].Value })
    $plan = Invoke-TestPostgresSql "EXPLAIN $query" $db.Name

    $oursMedian = ($ours | Sort-Object)[[int]($Runs / 2)]
    $theirsMedian = ($theirs | Sort-Object)[[int]($theirs.Count / 2)]
    'Get-FlagAudit -Flag flag_7 -Since (30 days ago) at {0:N0} events: {1} events, median {2:N1} ms over {3} runs (goal <= 20 ms)' -f $Events, $found.Count, $oursMedian, $Runs
    'psql, same indexed query, same run: median {0:N1} ms over {1} runs; ratio {2:N1}x' -f $theirsMedian, $theirs.Count, ($oursMedian / $theirsMedian)
    'plan: ' + (($plan | Select-Object -First 3) -join ' / ')
}
finally {
    if ($db) { Remove-TestDatabase $db }
    Stop-TestPostgres
}
