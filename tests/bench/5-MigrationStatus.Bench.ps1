<#
.SYNOPSIS
    Get-PmsMigration on a generated 500-revision graph (with branches and merges), beside the real `alembic current` +
    `alembic heads` on the same database and scripts, in the same run (goal <= 0.1x alembic's time: no Python starts).
    Needs PostgreSQL 15 and alembic (build.ps1 Bootstrap); the cluster is a throwaway one, removed at the end.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [string] $PwshDll, [int] $Runs = 21, [int] $AlembicRuns = 7, [int] $Revisions = 500)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
. (Join-Path $PSScriptRoot '../pester/Servers.ps1')
$dir = Join-Path ([IO.Path]::GetTempPath()) ("pms-flags-bench-migrations-" + [guid]::NewGuid())
$fixture = Join-Path $PSScriptRoot '../fixtures/alembic-project'
try {
    # The fixture project's alembic.ini and env.py, with a generated versions folder.
    $null = New-Item -ItemType Directory -Force (Join-Path $dir 'migrations/versions')
    Copy-Item (Join-Path $fixture 'alembic.ini') $dir
    Copy-Item (Join-Path $fixture 'migrations/env.py'), (Join-Path $fixture 'migrations/script.py.mako') (Join-Path $dir 'migrations')
    $ids = foreach ($i in 1..$Revisions) { '{0:x12}' -f (([long]$i * 2654435761L) % 281474976710656L) }
    $previous = @()
    for ($i = 0; $i -lt $Revisions; $i++) {
        # Every 50 revisions a two-revision branch that the next one merges.
        $down = @(if ($i % 50 -eq 2 -and $i -ge 2) { $ids[$i - 2] } elseif ($i % 50 -eq 3 -and $i -ge 3) { $ids[$i - 2], $ids[$i - 1] } else { $previous })
        $downText = switch ($down.Count) { 0 { 'None' } 1 { "'$($down[0])'" } default { '(' + (($down | ForEach-Object { "'$_'" }) -join ', ') + ')' } }
        $downgrade = if ($i % 7 -eq 0) { "    op.drop_column('t', 'c$i')" } else { "    op.drop_index('ix_$i', table_name='t')" }
        @"
"""generated revision $i

Revision ID: $($ids[$i])
Revises: $($down -join ', ')
"""
from alembic import op
import sqlalchemy as sa

revision = '$($ids[$i])'
down_revision = $downText
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
$downgrade
"@ | Set-Content (Join-Path $dir ('migrations/versions/{0:d4}_{1}.py' -f $i, $ids[$i]))
        $previous = @($ids[$i])
    }
    $ini = Join-Path $dir 'alembic.ini'
    $db = New-TestDatabase 'bench'
    $env:DATABASE_URL = "postgresql+psycopg2://$($db.User):$($db.Password)@$($db.Host):$($db.Port)/$($db.Name)"
    $stampAt = $ids[[int]($Revisions * 0.8)]
    $stampOutput = & /usr/bin/alembic -c $ini stamp $stampAt 2>&1
    if ($LASTEXITCODE) { throw "alembic stamp failed ($LASTEXITCODE): $($stampOutput -join "`n")" }

    $first = [Diagnostics.Stopwatch]::StartNew()
    $status = Get-PmsMigration -ConnectionString $db.ConnectionString -ScriptLocation $ini
    $firstMs = $first.Elapsed.TotalMilliseconds
    $ours = foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $status = Get-PmsMigration -ConnectionString $db.ConnectionString -ScriptLocation $ini
        $sw.Elapsed.TotalMilliseconds
    }
    $theirs = foreach ($i in 1..$AlembicRuns) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $current = & /usr/bin/alembic -c $ini current 2>$null
        $heads = & /usr/bin/alembic -c $ini heads 2>$null
        $sw.Elapsed.TotalMilliseconds
    }
    # Same answer, or the comparison means nothing.
    if (("$current" -replace '\s*\(.*$', '').Trim() -ne $status.Current[0]) { throw "alembic current says '$current', Get-PmsMigration says '$($status.CurrentText)'" }
    if (("$heads" -replace '\s*\(.*$', '').Trim() -ne $status.Heads[0]) { throw "alembic heads says '$heads', Get-PmsMigration says '$($status.HeadsText)'" }

    $oursMedian = ($ours | Sort-Object)[[int]($Runs / 2)]
    $theirsMedian = ($theirs | Sort-Object)[[int]($AlembicRuns / 2)]
    'Get-PmsMigration on {0} revisions ({1} pending): median {2:N1} ms over {3} runs in a warm session (first call {4:N0} ms)' -f $status.History.Count, $status.Pending.Count, $oursMedian, $Runs, $firstMs
    'alembic current + alembic heads (Debian alembic 1.8.1, same database and scripts): median {0:N0} ms over {1} runs' -f $theirsMedian, $AlembicRuns
    'ratio {0:N3}x (goal <= 0.1x)' -f ($oursMedian / $theirsMedian)
}
finally {
    $env:DATABASE_URL = $null
    Stop-TestPostgres
    if (Test-Path $dir) { Remove-Item $dir -Recurse -Force }
}
