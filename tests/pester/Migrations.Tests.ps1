#Requires -Version 7.4
# Database migrations against a real PostgreSQL 15 (a throwaway cluster for the run, a database for this file) and the
# real alembic 1.8 from Debian, with the fixture project in tests/fixtures/alembic-project (0001 base and branch point,
# 0002 labelled 'indexes', 0003 destructive, 0004 merge, 0005 head).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedDatabaseUrl = $env:DATABASE_URL
    $env:DATABASE_URL = $null
    $script:db = New-TestDatabase 'migrations'
    $script:cs = $db.ConnectionString
    $script:password = $db.Password
    $script:alembicUrl = "postgresql+psycopg2://$($db.User):$($db.Password)@$($db.Host):$($db.Port)/$($db.Name)"

    # A copy of the fixture project, so alembic's __pycache__ never lands in the repository.
    $script:projectRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-alembic-' + [guid]::NewGuid().ToString('N'))
    Copy-Item -Recurse (Join-Path $env:PMS_FLAGS_REPO 'tests/fixtures/alembic-project') $projectRoot
    $script:ini = Join-Path $projectRoot 'alembic.ini'
    $script:versions = Join-Path $projectRoot 'migrations/versions'

    function Invoke-RealAlembic {
        <# The real alembic against this file's database; returns stdout (its INFO lines go to stderr). #>
        $env:DATABASE_URL = $script:alembicUrl
        try { $out = & /usr/bin/alembic -c $script:ini @args 2>$null; if ($LASTEXITCODE) { throw "alembic $args failed ($LASTEXITCODE)" } ; ($out -join "`n").Trim() }
        finally { $env:DATABASE_URL = $null }
    }

    function Reset-Database([string[]] $Revision) {
        <# An empty public schema, then real alembic up to each given revision in turn. #>
        $null = Invoke-TestPostgresSql 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' $script:db.Name
        foreach ($r in $Revision) { $null = Invoke-RealAlembic upgrade $r }
    }

    function Get-DatabaseState {
        <# alembic_version, every table and column, and the settings rows: equal strings mean an unchanged database. #>
        $sql = "SELECT coalesce((SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version), '<no rows>')"
        $versionRows = if ((Invoke-TestPostgresSql "SELECT to_regclass('alembic_version') IS NOT NULL" $script:db.Name) -eq 't') { Invoke-TestPostgresSql $sql $script:db.Name } else { '<no table>' }
        $columns = Invoke-TestPostgresSql "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'" $script:db.Name
        $indexes = Invoke-TestPostgresSql "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'" $script:db.Name
        "version=$versionRows; columns=$columns; indexes=$indexes"
    }

    function Get-LedgerText { if (Test-Path -LiteralPath $script:sandbox.LedgerPath) { Get-Content -Raw -LiteralPath $script:sandbox.LedgerPath } else { '<absent>' } }

    $script:sandbox = New-FlagSandbox
}

AfterAll {
    Remove-FlagSandbox $script:sandbox
    Remove-TestDatabase $script:db
    if (Test-Path -LiteralPath $script:projectRoot) { Remove-Item -LiteralPath $script:projectRoot -Recurse -Force }
    $env:DATABASE_URL = $script:savedDatabaseUrl
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Get-PmsMigration' -Tag Migrations {
    It 'at base: no current revision, not at head, every revision pending (the alembic_version table does not exist)' {
        Reset-Database
        $status = Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini
        $status.Current.Count | Should -Be 0
        $status.CurrentText | Should -Be '<base>'
        $status.Heads | Should -Be @('0005')
        $status.IsAtHead | Should -BeFalse
        @($status.Pending.Revision) | Should -Be @('0001', '0003', '0002', '0004', '0005')
        Invoke-RealAlembic current | Should -Be ''
    }

    It 'mid and head agree with real alembic current and heads' {
        Reset-Database '0003'
        $mid = Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini
        $mid.Current | Should -Be @('0003')
        Invoke-RealAlembic current | Should -Be '0003'
        @($mid.Pending.Revision | Sort-Object) | Should -Be @('0002', '0004', '0005')

        $null = Invoke-RealAlembic upgrade head
        $head = Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini
        $head.Current | Should -Be @('0005')
        $head.IsAtHead | Should -BeTrue
        $head.Pending.Count | Should -Be 0
        Invoke-RealAlembic current | Should -Be '0005 (head)'
        Invoke-RealAlembic heads | Should -Be '0005 (indexes) (head)'
    }

    It 'reads the history without Python, with merge tuples, labels and each revision''s classification' {
        $history = (Get-PmsMigration -ConnectionString $cs -ScriptLocation $versions).History
        @($history.Revision) | Should -Be @('0005', '0004', '0002', '0003', '0001')   # alembic history's order
        ($history | Where-Object Revision -EQ '0004').DownRevisions | Should -Be @('0002', '0003')
        ($history | Where-Object Revision -EQ '0004').IsMergePoint | Should -BeTrue
        ($history | Where-Object Revision -EQ '0002').OwnBranchLabels | Should -Be @('indexes')
        $classes = @{}; foreach ($r in $history) { $classes[$r.Revision] = $r.Classification.ToString() }
        $classes['0001'] | Should -Be 'Destructive'
        $classes['0002'] | Should -Be 'Reversible'
        $classes['0003'] | Should -Be 'Destructive'
        $classes['0004'] | Should -Be 'Reversible'
        $classes['0005'] | Should -Be 'Reversible'
        ($history | Where-Object Revision -EQ '0003').ClassificationReason | Should -BeLike '*drop_column*'
    }

    It 'takes the database from DATABASE_URL when no -ConnectionString is given' {
        Reset-Database '0001'
        $env:DATABASE_URL = "postgresql://postgres:$([uri]::EscapeDataString($password))@127.0.0.1:$($db.Port)/$($db.Name)"
        try { (Get-PmsMigration -ScriptLocation $ini).Current | Should -Be @('0001') }
        finally { $env:DATABASE_URL = $null }
    }
}

Describe 'Invoke-PmsMigration' -Tag Migrations {
    It 'upgrades to head with real alembic, streams its output to verbose, and records migration_applied from base to 0005' {
        Reset-Database
        $before = @(Read-LedgerLine $sandbox.LedgerPath).Count
        $output = Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'Release 2.4' -ApprovalTicket 'CHG-1' -Verbose 4>&1
        $result = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $result.Count | Should -Be 1
        $result[0].Succeeded | Should -BeTrue
        $result[0].From.Count | Should -Be 0
        $result[0].To | Should -Be @('0005')
        @($result[0].Steps | ForEach-Object { "$($_.Kind) $($_.To)" }) | Should -Be @('upgrade 0001', 'upgrade 0003', 'upgrade 0002', 'upgrade 0004', 'upgrade 0005')
        $verbose | Should -Contain 'alembic: INFO  [alembic.runtime.migration] Running upgrade 0004 -> 0005, rename value, index lower key'
        Invoke-RealAlembic current | Should -Be '0005 (head)'

        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events.Count | Should -Be ($before + 1)
        $event = $events[-1]
        $event.event_type | Should -Be 'migration_applied'
        $event.outcome | Should -Be 'succeeded'
        $event.reason | Should -Be 'Release 2.4'
        $event.approval_ticket | Should -Be 'CHG-1'
        $event.details.from_revisions.Count | Should -Be 0
        $event.details.to_revisions | Should -Be @('0005')
        $result[0].AuditSequence | Should -Be $event.sequence
    }

    It 'refuses -Environment production without a chosen ledger (LedgerNotConfigured): the database and every ledger are unchanged' -Tag LedgerPolicy {
        Reset-Database '0001'
        $before = Get-DatabaseState
        $ledgerBefore = Get-LedgerText
        $defaultLedger = Join-Path $sandbox.StateDir 'audit.jsonl'
        # A fresh runspace has chosen no ledger (this file's session connected one).
        $run = Invoke-InFreshRunspace -Location $sandbox.Root -ArgumentList $cs, $ini -Script @'
param($cs, $ini)
try { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Environment production -Reason r -ApprovalTicket CHG-1 -Force -ErrorAction Stop; 'NO-ERROR' } catch { $_.FullyQualifiedErrorId }
'@
        $run.Output | Should -Be @('LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand')
        Get-DatabaseState | Should -Be $before
        Get-LedgerText | Should -Be $ledgerBefore
        Test-Path -LiteralPath $defaultLedger | Should -BeFalse
    }

    It 'downgrades -1 across a Reversible revision and records migration_reverted from 0005 to 0004' {
        Reset-Database 'head'
        $result = Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason 'Planned rollback' -Force
        $result.From | Should -Be @('0005')
        $result.To | Should -Be @('0004')
        $result.Crossed.Revision | Should -Be @('0005')
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'
        $event = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $event.event_type | Should -Be 'migration_reverted'
        $event.details.from_revisions | Should -Be @('0005')
        $event.details.to_revisions | Should -Be @('0004')
        $event.details.crossed[0].classification | Should -Be 'Reversible'
    }

    It 'stamps without running migrations and records migration_stamped' {
        Reset-Database 'head'
        $schemaBefore = (Get-DatabaseState) -replace '^version=[^;]*; ', ''
        $result = Invoke-PmsMigration -Stamp 0001 -ConnectionString $cs -ScriptLocation $ini -Reason 'Recorded by hand' -Confirm:$false
        $result.To | Should -Be @('0001')
        $result.Steps.Kind | Should -Be @('stamp_revision')
        (Get-DatabaseState) | Should -Be "version=0001; $schemaBefore"
        $event = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $event.event_type | Should -Be 'migration_stamped'
        $event.details.from_revisions | Should -Be @('0005')
        $event.details.to_revisions | Should -Be @('0001')
    }

    It 'refuses a downgrade across a Destructive revision without -AllowDataLoss, however it is confirmed; nothing changes' -ForEach @(
        @{ Name = '-Force'; Extra = @{ Force = $true } }
        @{ Name = '-Confirm:$false'; Extra = @{ Confirm = $false } }
        @{ Name = '$ConfirmPreference None'; Extra = @{}; Preference = 'None' }
    ) {
        Reset-Database 'head'
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        if ($Preference) { $ConfirmPreference = $Preference }
        { Invoke-PmsMigration -Downgrade 0002 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' @Extra -ErrorAction Stop } |
            Should -Throw -ErrorId 'MigrationDataLossRefused,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand'
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
    }

    It 'runs the destructive downgrade with -AllowDataLoss and records the consent' {
        Reset-Database 'head'
        $result = Invoke-PmsMigration -Downgrade base -ConnectionString $cs -ScriptLocation $ini -Reason 'Drop the feature' -AllowDataLoss -Force
        $result.To.Count | Should -Be 0
        Get-DatabaseState | Should -Be 'version=<no rows>; columns=alembic_version.version_num; indexes=alembic_version_pkc'
        $event = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $event.details.allow_data_loss | Should -BeTrue
        @($event.details.crossed | Where-Object classification -EQ 'Destructive').revision | Sort-Object | Should -Be @('0001', '0003')
    }

    It 'asks before a downgrade or a stamp (ConfirmImpact High): without -Force a non-interactive session cannot confirm, and nothing changes' -ForEach @(
        @{ Name = 'downgrade'; Arguments = @{ Downgrade = '-1' } }
        @{ Name = 'stamp'; Arguments = @{ Stamp = '0001' } }
    ) {
        Reset-Database 'head'
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        { Invoke-PmsMigration @Arguments -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -ErrorAction Stop } | Should -Throw
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
    }

    It 'does not ask before an upgrade (ConfirmImpact Medium)' {
        Reset-Database '0001'
        (Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r').To | Should -Be @('0005')
    }

    It '-WhatIf prints alembic''s offline SQL for exactly the range and changes nothing' -ForEach @(
        @{ Name = 'upgrade from base'; Start = @(); Arguments = @{ Upgrade = 'head' }; Sql = '*CREATE TABLE settings*INSERT INTO alembic_version*' }
        @{ Name = 'upgrade from 0003'; Start = @('0003'); Arguments = @{ Upgrade = 'head' }; Sql = "*CREATE INDEX ix_settings_value*UPDATE alembic_version SET version_num='0005'*" }
        @{ Name = 'destructive downgrade'; Start = @('0003'); Arguments = @{ Downgrade = 'base' }; Sql = '*ALTER TABLE settings DROP COLUMN notes*DROP TABLE settings*' }
        @{ Name = 'stamp'; Start = @('head'); Arguments = @{ Stamp = '0001'; Force = $true }; Sql = "*UPDATE alembic_version SET version_num='0001'*" }
    ) {
        Reset-Database $Start
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        $all = @(Invoke-PmsMigration @Arguments -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -WhatIf 6>&1 3>&1)
        $objects = @($all | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] -and $_ -isnot [System.Management.Automation.WarningRecord] })
        $objects.Count | Should -Be 0
        ($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | Out-String) | Should -BeLike $Sql
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
        if ($Name -eq 'destructive downgrade') { ($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -BeLike '*would be refused*0003 (Destructive)*' }
    }

    It 'a run that fails halfway is rolled back by PostgreSQL, recorded as failed, and reported with where the database is' {
        Reset-Database
        # 0005 creates ix_settings_key_lower: an index of that name already there makes 0005 fail after 0001-0004 ran.
        $null = Invoke-TestPostgresSql 'CREATE TABLE blocker (key text); CREATE INDEX ix_settings_key_lower ON blocker (key)' $db.Name
        $state = Get-DatabaseState
        $before = @(Read-LedgerLine $sandbox.LedgerPath).Count
        $failure = $null
        try { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -ErrorAction Stop } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'AlembicFailed,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand'
        $failure.Exception.Message | Should -BeLike '*already exists*The database is at <base> (unchanged from <base>)*'
        Get-DatabaseState | Should -Be $state
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events.Count | Should -Be ($before + 1)
        $events[-1].event_type | Should -Be 'migration_applied'
        $events[-1].outcome | Should -Be 'failed'
        $events[-1].details.to_revisions.Count | Should -Be 0
        $events[-1].details.alembic_exit_code | Should -Be 1
    }

    It 'refuses to run when the ledger cannot be written, before alembic starts' {
        Reset-Database '0001'
        $state = Get-DatabaseState
        $unwritable = New-UnwritableLedger $sandbox
        { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Ledger $unwritable.Ledger -ErrorAction Stop } |
            Should -Throw -ErrorId 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand'
        Get-DatabaseState | Should -Be $state
        Remove-Item -LiteralPath $unwritable.Blocker
    }
}

Describe 'Bad inputs: stable ErrorIds, nothing changed' -Tag Migrations {
    BeforeEach {
        Reset-Database 'head'
        $script:state = Get-DatabaseState
        $script:ledger = Get-LedgerText
        $script:emptyScripts = Join-Path $projectRoot 'empty-versions'
        $null = New-Item -ItemType Directory -Force $emptyScripts
        Set-Content -LiteralPath (Join-Path $emptyScripts 'helpers.py') -Value "def helper():`n    pass"
        $script:closedPort = Get-FreeTcpPort
    }

    It '<Name>' -ForEach @(
        @{ Name = 'an unknown revision'; Id = 'MigrationRevisionNotFound'; Action = { Invoke-PmsMigration -Upgrade 0099 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force } }
        @{ Name = 'an unknown downgrade target'; Id = 'MigrationRevisionNotFound'; Action = { Invoke-PmsMigration -Downgrade nope -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force } }
        @{ Name = 'an ambiguous -1 with two current heads'; Id = 'MigrationRevisionAmbiguous'; Setup = { Reset-Database '0002', '0003' }; Action = { Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force -AllowDataLoss } }
        @{ Name = 'a -1 across the merge point (alembic: Ambiguous walk)'; Id = 'MigrationRevisionAmbiguous'; Setup = { Reset-Database '0004' }; Action = { Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force } }
        @{ Name = 'an ambiguous revision prefix'; Id = 'MigrationRevisionAmbiguous'; Action = { Invoke-PmsMigration -Downgrade 000 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force } }
        @{ Name = 'an upgrade target below the current revision'; Id = 'MigrationInvalidDirection'; Action = { Invoke-PmsMigration -Upgrade 0001 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force } }
        @{ Name = 'a missing alembic executable'; Id = 'AlembicNotFound'; Action = { Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force -AlembicPath (Join-Path $projectRoot 'no-such-alembic') } }
        @{ Name = 'a missing alembic executable with -WhatIf'; Id = 'AlembicNotFound'; Action = { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -WhatIf -AlembicPath (Join-Path $projectRoot 'no-such-alembic') } }
        @{ Name = 'a scripts folder without revisions (Invoke)'; Id = 'MigrationScriptsWithoutRevisions'; Action = { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $emptyScripts -Reason 'r' -Force } }
        @{ Name = 'a scripts folder without revisions (Get)'; Id = 'MigrationScriptsWithoutRevisions'; Action = { Get-PmsMigration -ConnectionString $cs -ScriptLocation $emptyScripts } }
        @{ Name = 'a script location that does not exist'; Id = 'MigrationScriptLocationNotFound'; Action = { Get-PmsMigration -ConnectionString $cs -ScriptLocation (Join-Path $projectRoot 'nowhere') } }
        @{ Name = 'a versions folder with no alembic.ini above it'; Id = 'AlembicIniNotFound'; Setup = { Copy-Item -Recurse $versions (Join-Path $projectRoot 'loose-versions') -Force }; Action = { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation (Join-Path $projectRoot 'loose-versions') -Reason 'r' -Force } }
        @{ Name = 'an unreachable database (Invoke)'; Id = 'DatabaseUnreachable'; Action = { Invoke-PmsMigration -Upgrade head -ConnectionString "Host=127.0.0.1;Port=$closedPort;Username=postgres;Password=$password;Database=x" -ScriptLocation $ini -Reason 'r' -Force -TimeoutSec 5 } }
        @{ Name = 'an unreachable database (Get)'; Id = 'DatabaseUnreachable'; Action = { Get-PmsMigration -ConnectionString "Host=127.0.0.1;Port=$closedPort;Username=postgres;Password=$password;Database=x" -ScriptLocation $ini -TimeoutSec 5 } }
        @{ Name = 'an unreachable database (Test)'; Id = 'DatabaseUnreachable'; Action = { Test-PmsDatabase -ConnectionString "Host=127.0.0.1;Port=$closedPort;Username=postgres;Password=$password;Database=x" -TimeoutSec 5 } }
        @{ Name = 'a wrong password'; Id = 'DatabaseAuthenticationFailed'; Action = { Get-PmsDatabaseTable -ConnectionString ($cs -replace 'Password=[^;]+', 'Password=wrong-password') } }
        @{ Name = 'no connection string and no DATABASE_URL'; Id = 'DatabaseConnectionStringMissing'; Action = { Test-PmsDatabase } }
        @{ Name = 'a connection string that cannot be parsed'; Id = 'DatabaseConnectionStringInvalid'; Action = { Test-PmsDatabase -ConnectionString "Password=$password;Nonsense" } }
        @{ Name = 'a blank reason'; Id = 'ReasonRequired'; Action = { Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason ' ' -Force } }
    ) {
        if ($Setup) { . $Setup; $script:state = Get-DatabaseState }
        $failure = $null
        try { $null = & $Action -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike "$Id,PMS.Flags.Cmdlets.Commands.*"
        $failure.Exception.Message | Should -Not -BeLike "*$password*"
        Get-DatabaseState | Should -Be $script:state
        Get-LedgerText | Should -Be $script:ledger
    }
}

Describe 'The database password never shows' -Tag Migrations {
    It 'appears in no output, verbose, warning, error, ledger event or ToString of any database command' {
        Reset-Database '0003'
        $null = Invoke-TestPostgresSql 'CREATE TABLE blocker (key text); CREATE INDEX ix_settings_key_lower ON blocker (key)' $db.Name
        $commands = @(
            { Test-PmsDatabase -ConnectionString $cs -Verbose }
            { Get-PmsDatabaseTable -ConnectionString $cs -Verbose }
            { Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini -Verbose }
            { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -WhatIf -Verbose }
            { Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Verbose -Debug }   # fails at 0005
            { Invoke-PmsMigration -Downgrade 0001 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force -Verbose }   # refused
            { Invoke-PmsMigration -Downgrade 0001 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force -AllowDataLoss -Verbose }
            { Test-PmsDatabase -ConnectionString ($cs -replace 'Database=[^;]+', 'Database=no_such_db') -Verbose }
        )
        $all = foreach ($command in $commands) { try { & $command *>&1 } catch { $_ } }
        $text = ($all | ForEach-Object { $_; $_ | Format-List * -Force | Out-String; if ($_ -is [System.Management.Automation.ErrorRecord]) { $_.Exception.ToString() } } | Out-String -Width 500) + (Get-LedgerText)
        $text | Should -BeLike '*AlembicFailed*'
        $text | Should -BeLike '*MigrationDataLossRefused*'
        $text | Should -BeLike '*DatabaseError*'
        $text | Should -BeLike '*Running downgrade 0003 -> 0001*'
        $text.Contains($password) | Should -BeFalse
        $text.Contains([uri]::EscapeDataString($password)) | Should -BeFalse
    }
}

Describe 'Test-PmsDatabase and Get-PmsDatabaseTable' -Tag Migrations {
    It 'Test-PmsDatabase reports the server version, latency, database, user and TLS' {
        $probe = Test-PmsDatabase -ConnectionString $cs
        $probe.ServerVersion | Should -BeLike 'PostgreSQL 15.*'
        $probe.ServerVersion | Should -Be (Invoke-TestPostgresSql 'SELECT version()' $db.Name)
        $probe.Database | Should -Be $db.Name
        $probe.User | Should -Be 'postgres'
        $probe.Tls | Should -BeFalse
        $probe.Latency | Should -BeGreaterThan ([timespan]::Zero)
    }

    It 'Get-PmsDatabaseTable lists what psql''s \dt lists' {
        Reset-Database '0003'
        $null = Invoke-TestPostgresSql 'CREATE TABLE parted (id int) PARTITION BY RANGE (id)' $db.Name
        $tables = @(Get-PmsDatabaseTable -ConnectionString $cs)
        $dt = @(Invoke-TestPostgresSql '\dt' $db.Name)
        @($tables | ForEach-Object { "$($_.Schema)|$($_.Name)|$($_.Type)|$($_.Owner)" }) | Should -Be $dt
        @($tables.Name) | Should -Be @('alembic_version', 'parted', 'settings')
        (Get-PmsDatabaseTable -ConnectionString $cs -Name 'SETT*').Name | Should -Be 'settings'
    }

    It 'the table views of the database types fit 80 columns' {
        Reset-Database 'head'
        $null = Invoke-PmsMigration -Downgrade -1 -ConnectionString $cs -ScriptLocation $ini -Reason 'r' -Force
        $objects = @(
            Test-PmsDatabase -ConnectionString $cs
            Get-PmsDatabaseTable -ConnectionString $cs
            Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini
            (Get-PmsMigration -ConnectionString $cs -ScriptLocation $ini).History
            Invoke-PmsMigration -Upgrade head -ConnectionString $cs -ScriptLocation $ini -Reason 'r'
        )
        foreach ($group in $objects | Group-Object { $_.GetType().FullName }) {
            (Get-FormatData -TypeName $group.Name).FormatViewDefinition.Control.GetType().Name | Should -Contain 'TableControl'
            $lines = ($group.Group | Format-Table | Out-String -Width 200) -split "`n"
            ($lines | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 80 -Because $group.Name
        }
    }
}

Describe 'Npgsql is loaded only by the database cmdlets' -Tag Migrations {
    It 'stays unloaded through flag commands, then loads into the engine''s private load context' {
        $work = Join-Path $sandbox.Root 'npgsql-load'
        $null = New-Item -ItemType Directory -Force $work
        $env:PMS_FLAGS_TEST_CS = $cs
        try {
            $result = Invoke-ChildPwsh -WorkDirectory $work -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.FlagFile -Script @'
param($module, $flagFile)
Import-Module $module
$null = Connect-FlagStore -Path $flagFile
$null = Get-Flag
$null = Get-Command -Module PMS.Flags | Get-Help
function Find-Npgsql { @([System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $alc = $_; $_.Assemblies | Where-Object { $_.GetName().Name -eq 'Npgsql' } | ForEach-Object { $alc.Name } }) }
"before=$((Find-Npgsql) -join ',')"
$null = Test-PmsDatabase -ConnectionString $env:PMS_FLAGS_TEST_CS
"after=$((Find-Npgsql) -join ',')"
'@
        }
        finally { $env:PMS_FLAGS_TEST_CS = $null }
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -BeLike '*before=*after=PMS.Flags.Engine*'
        $result.Output | Should -Match '(?m)^before=\s*$'
    }
}

Describe 'Invoke-PmsMigration -Via Pod (exec through the Kubernetes stand-in, real alembic, real PostgreSQL)' -Tag Migrations, MigrationsPod {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
        $script:kube = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2
        $script:kubeDir = Join-Path $sandbox.Root 'kube-migrations'
        $null = New-Item -ItemType Directory -Force $kubeDir
        $script:kubeConfig = New-StandInKubeConfig -Server $kube -Path (Join-Path $kubeDir 'config')
        $script:kubeCache = Join-Path $kubeDir 'cache'

        function Set-StandInDeployment([string] $Patch) {
            <# A strategic merge patch of pms/pms-backend through the API, then wait until every pod runs the new template. #>
            $null = Invoke-RestMethod -Method Patch -Uri "$($kube.BaseUri)/apis/apps/v1/namespaces/pms/deployments/pms-backend" -ContentType 'application/strategic-merge-patch+json' -Headers @{ Authorization = "Bearer $script:KubeToken" } -Body $Patch
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                Start-Sleep -Milliseconds 200
                $deployment = Invoke-RestMethod -Uri "$($kube.BaseUri)/apis/apps/v1/namespaces/pms/deployments/pms-backend" -Headers @{ Authorization = "Bearer $script:KubeToken" }
                $pods = @((Get-StandInState $kube).pods)
                $settled = $deployment.status.observedGeneration -eq $deployment.metadata.generation -and $deployment.status.updatedReplicas -eq $deployment.spec.replicas -and
                    $pods.Count -eq $deployment.spec.replicas -and @($pods | Where-Object { -not $_.ready }).Count -eq 0 -and @($pods.replicaSet | Select-Object -Unique).Count -le 1
            } until ($settled -or [DateTime]::UtcNow -gt $deadline)
            if (-not $settled) { throw 'The stand-in deployment did not settle within 60 s.' }
        }

        function Get-ExecCommands { @(Get-KubeRequests $kube | Where-Object { $_.path -like '*/exec' } | ForEach-Object { [uri]::UnescapeDataString((($_.query.TrimStart('?') -split '&' | Where-Object { $_ -like 'command=*' }) -replace '^command=', '') -join ' ') }) }

        # The backend image has the alembic project in its working directory and DATABASE_URL in its env, as in the playbook.
        $script:podPatch = @{ spec = @{ template = @{ spec = @{ containers = @(@{ name = 'backend'; workingDir = $projectRoot; env = @(@{ name = 'DATABASE_URL'; value = $alembicUrl }) }) } } } } | ConvertTo-Json -Depth 10
        Set-StandInDeployment $podPatch
        $script:viaPod = @{ Via = 'Pod'; Namespace = 'pms'; Deployment = 'pms-backend'; KubeConfig = $kubeConfig; ConnectionString = $cs; ScriptLocation = $ini }
    }

    AfterAll { Stop-KubernetesStandIn $kube }

    BeforeEach { Clear-KubeRequests $kube }

    It 'upgrades to head inside a Ready pod, streams alembic''s output to verbose and records migration_applied with the pod' {
        Reset-Database
        $before = @(Read-LedgerLine $sandbox.LedgerPath).Count
        $all = @(Invoke-PmsMigration -Upgrade head @viaPod -Reason 'release 1.5' -Verbose 4>&1)
        $result = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = ($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n"
        $result.Count | Should -Be 1
        $result[0].To | Should -Be @('0005')
        $result[0].Via | Should -BeLike 'pod pms/pms-backend-*'
        @($result[0].Steps.To) | Should -Be @('0001', '0003', '0002', '0004', '0005')
        $verbose | Should -BeLike '*alembic runs in pod pms/pms-backend-*'
        $verbose | Should -BeLike '*alembic: INFO*Running upgrade 0004 -> 0005*'
        Invoke-RealAlembic current | Should -Be '0005 (head)'
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events.Count | Should -Be ($before + 1)
        $events[-1].event_type | Should -Be 'migration_applied'
        $events[-1].outcome | Should -Be 'succeeded'
        $events[-1].details.via | Should -BeLike 'pod pms/pms-backend-*'
        @($events[-1].details.to_revisions) | Should -Be @('0005')
        # Through the exec API, no local alembic: a version probe, then the upgrade, in the container's working directory.
        Get-ExecCommands | Should -Be @('alembic --version', 'alembic upgrade 0005')
        @(Get-KubeRequests $kube | Where-Object { $_.path -like '*/exec' }).status | Should -Be @(101, 101)
    }

    It 'downgrades -1 and stamps in the pod, each recorded with from/to revisions' {
        Reset-Database 'head'
        (Invoke-PmsMigration -Downgrade -1 @viaPod -Reason 'planned rollback' -Force).To | Should -Be @('0004')
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'
        (Invoke-PmsMigration -Stamp head @viaPod -Reason 'stamp' -Force).To | Should -Be @('0005')
        Invoke-RealAlembic current | Should -Be '0005 (head)'
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events[-2].event_type | Should -Be 'migration_reverted'
        @($events[-2].details.from_revisions) | Should -Be @('0005')
        @($events[-2].details.to_revisions) | Should -Be @('0004')
        $events[-1].event_type | Should -Be 'migration_stamped'
        $events[-1].details.via | Should -BeLike 'pod pms/*'
    }

    It 'refuses a destructive downgrade without -AllowDataLoss before any alembic command but the version probe runs in the pod' {
        Reset-Database '0003'
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        { Invoke-PmsMigration -Downgrade base @viaPod -Reason 'r' -Force -ErrorAction Stop } | Should -Throw -ErrorId 'MigrationDataLossRefused,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand'
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
        Get-ExecCommands | Should -Be @('alembic --version')
    }

    It '-WhatIf runs alembic''s offline --sql preview in the pod and changes nothing' {
        Reset-Database '0003'
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        $all = @(Invoke-PmsMigration -Upgrade head @viaPod -Reason 'r' -WhatIf 6>&1)
        ($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | Out-String) | Should -BeLike "*CREATE INDEX ix_settings_value*UPDATE alembic_version SET version_num='0005'*"
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
        (Get-ExecCommands)[-1] | Should -Be 'alembic upgrade 0003:0005 --sql'
    }

    It 'a connection cut mid-stream is reported as PodExecConnectionLost and recorded as unknown, with where the database is' {
        Reset-Database
        $before = @(Read-LedgerLine $sandbox.LedgerPath).Count
        $null = Invoke-RestMethod -Method Post "$($kube.BaseUri)/_control/exec" -ContentType 'application/json' -Body '{"dropAfterLines": 1, "commandContains": "upgrade"}'
        $failure = $null
        try { Invoke-PmsMigration -Upgrade head @viaPod -Reason 'r' -ErrorAction Stop } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'PodExecConnectionLost,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand'
        $failure.Exception.Message | Should -BeLike '*ended before alembic reported its exit code*recorded as unknown*'
        $failure.Exception.Message | Should -Not -BeLike "*$password*"
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events.Count | Should -Be ($before + 1)
        $events[-1].event_type | Should -Be 'migration_applied'
        $events[-1].outcome | Should -Be 'unknown'
        # As in a real container, alembic ran on without the connection.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Invoke-RealAlembic current) -ne '0005 (head)' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 250 }
        Invoke-RealAlembic current | Should -Be '0005 (head)'
    }

    It 'real kubectl exec runs alembic in the same pods and sees the same revision' {
        Reset-Database '0003'
        $pod = @((Get-StandInState $kube).pods)[0].name
        $run = Invoke-Kubectl -KubeConfig $kubeConfig -CacheDirectory $kubeCache -Arguments @('exec', $pod, '--', 'alembic', 'current')
        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout.Trim() | Should -Be '0003'
        $failed = Invoke-Kubectl -KubeConfig $kubeConfig -CacheDirectory $kubeCache -Arguments @('exec', $pod, '--', 'alembic', 'upgrade', 'nope')
        # alembic exits -1 (255) on "Can't locate revision"; kubectl reports the pod's exit code as its own.
        $failed.ExitCode | Should -Be 255
        $failed.Stderr | Should -BeLike "*Can't locate revision*command terminated with exit code 255*"
        Invoke-RealAlembic current | Should -Be '0003'
    }

    It 'bad input: <Name>' -ForEach @(
        @{ Name = 'no alembic in the container'; Id = 'AlembicNotFound'; Extra = @{ AlembicPath = 'no-such-alembic' } }
        @{ Name = 'a container the pod does not have'; Id = 'KubernetesContainerNotFound'; Extra = @{ Container = 'sidecar' } }
        @{ Name = 'a deployment that does not exist'; Id = 'DeploymentNotFound'; Extra = @{ Deployment = 'no-such-backend' } }
        @{ Name = 'a deployment with no Ready pod'; Id = 'MigrationNoReadyPod'; Extra = @{}; ScaleToZero = $true }
    ) {
        Reset-Database '0001'
        $state = Get-DatabaseState
        $ledger = Get-LedgerText
        if ($ScaleToZero) { Set-StandInDeployment '{"spec":{"replicas":0}}' }
        try {
            $arguments = $viaPod.Clone()
            foreach ($k in $Extra.Keys) { $arguments[$k] = $Extra[$k] }
            { Invoke-PmsMigration -Upgrade head @arguments -Reason 'r' -Force -ErrorAction Stop } | Should -Throw -ErrorId "$Id,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand"
        }
        finally { if ($ScaleToZero) { Set-StandInDeployment '{"spec":{"replicas":2}}' } }
        Get-DatabaseState | Should -Be $state
        Get-LedgerText | Should -Be $ledger
        @(Get-ExecCommands | Where-Object { $_ -like '*upgrade*' }).Count | Should -Be 0
    }
}
