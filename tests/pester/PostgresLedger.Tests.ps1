#Requires -Version 7.4
# The PostgreSQL ledger through the BUILT module, against a real PostgreSQL 15 (the run's throwaway cluster, a database
# for this file): Connect-FlagLedger -ConnectionString with every way of giving the password, refusals that change
# nothing and never show the password, eight processes appending at once, an outage in the middle of a change, and a
# rollout started by one process and stepped by others.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedPg = @{}
    foreach ($name in 'PGPASSWORD', 'PGPASSFILE', 'DATABASE_URL') { $script:savedPg[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $null) }
    $script:db = New-TestDatabase 'pgledger'
    $script:cs = $db.ConnectionString
    $script:password = $db.Password
    $script:csNoPassword = "Host=$($db.Host);Port=$($db.Port);Username=$($db.User);Database=$($db.Name)"

    function Get-EventCount([string] $Schema = 'pms_flags') {
        if ((Invoke-TestPostgresSql "SELECT to_regclass('$Schema.events') IS NOT NULL" $script:db.Name) -ne 't') { return '<no table>' }
        [long](Invoke-TestPostgresSql "SELECT count(*) FROM $Schema.events" $script:db.Name)
    }

    function Get-LedgerRows([string] $Schema = 'pms_flags') {
        if ((Invoke-TestPostgresSql "SELECT to_regclass('$Schema.events') IS NOT NULL" $script:db.Name) -ne 't') { return '<no table>' }
        (Invoke-TestPostgresSql "SELECT coalesce(string_agg(hash, ',' ORDER BY sequence), '') FROM $Schema.events" $script:db.Name) -join ''
    }

    function Write-ChildScript([string] $Directory, [string] $Name, [string] $Text) {
        $path = Join-Path $Directory $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
    }
}

AfterAll {
    Remove-TestDatabase $script:db
    foreach ($name in $script:savedPg.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedPg[$name]) }
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Connect-FlagLedger -ConnectionString' -Tag PostgresLedger {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect; $null = Connect-FlagStore -Path $sandbox.FlagFile }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'records a change in PostgreSQL; Get-FlagAudit and Test-FlagAuditChain read it; nothing shows the password' {
        $schema = 'audit_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $all = & {
            $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -Verbose
            $ledger
            Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'pg ledger' -Verbose
            Get-FlagAudit -Flag new_billing_engine -Verbose | Format-List * | Out-String
            Test-FlagAuditChain -Verbose | Format-List * | Out-String
            $ledger | Format-Table | Out-String
            $ledger | Format-List * | Out-String
        } *>&1 | Out-String
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema

        $ledger.Identity | Should -Be "postgres:127.0.0.1:$($db.Port)/$($db.Name)/$schema"
        $events = @(Get-FlagAudit -Flag new_billing_engine)
        $events.Count | Should -Be 1
        $events[0].Sequence | Should -Be 1
        $events[0].Reason | Should -Be 'pg ledger'
        $events[0].RolloutPercentage | Should -Be 20
        (Get-EventCount $schema) | Should -Be 1
        $verdict = Test-FlagAuditChain
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.Count | Should -Be 1
        $all | Should -Match ([regex]::Escape($ledger.Name))
        $all | Should -Not -Match ([regex]::Escape($script:password))
        (Invoke-TestPostgresSql "SELECT count(*) FROM $schema.events WHERE line LIKE '%$($script:password)%'" $db.Name) | Should -Be '0'
    }

    It 'Npgsql stays unloaded through a JSONL ledger and loads with the first PostgreSQL ledger' {
        $env:PMS_FLAGS_TEST_CS = $script:cs
        try {
            $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $sandbox.LedgerPath -Script @'
param($module, $flagFile, $ledgerPath)
Import-Module $module
$null = Connect-FlagStore -Path $flagFile
$null = Connect-FlagLedger -Path $ledgerPath 3>$null
$null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 15 -Reason 'jsonl first'
$null = Get-Command Connect-FlagLedger, Copy-FlagAudit | Get-Help
function Find-Npgsql { @([System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $alc = $_; $_.Assemblies | Where-Object { $_.GetName().Name -eq 'Npgsql' } | ForEach-Object { $alc.Name } }) }
"before=$((Find-Npgsql) -join ',')"
$null = Connect-FlagLedger -ConnectionString $env:PMS_FLAGS_TEST_CS
"after=$((Find-Npgsql) -join ',')"
'@
        }
        finally { $env:PMS_FLAGS_TEST_CS = $null }
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match '(?m)^before=\s*$'
        $result.Output | Should -Match '(?m)^after=PMS.Flags.Engine\s*$'
    }

    It 'takes the password from -Credential, from PGPASSWORD and from a pgpass file' {
        $credential = [pscredential]::new($db.User, (ConvertTo-SecureString $script:password -AsPlainText -Force))
        (Connect-FlagLedger -ConnectionString $script:csNoPassword -Credential $credential).Identity | Should -Match '^postgres:'

        $env:PGPASSWORD = $script:password
        try { (Connect-FlagLedger -ConnectionString $script:csNoPassword).Identity | Should -Match '^postgres:' }
        finally { $env:PGPASSWORD = $null }

        $pgpass = Join-Path $sandbox.Root 'pgpass'
        Set-Content -LiteralPath $pgpass -Value "$($db.Host):$($db.Port):$($db.Name):$($db.User):$($script:password)"
        if (-not $IsWindows) { & chmod 600 $pgpass }
        $env:PGPASSFILE = $pgpass
        try { (Connect-FlagLedger -ConnectionString $script:csNoPassword).Identity | Should -Match '^postgres:' }
        finally { $env:PGPASSFILE = $null }

        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 30 -Reason 'via pgpass'
        (Get-FlagAudit -Flag new_billing_engine -First 100 | Select-Object -Last 1).Reason | Should -Be 'via pgpass'
    }

    It '<Name>: <ErrorId>, the session has no ledger, nothing changed, and the password is nowhere' -ForEach @(
        @{ Name = 'wrong password'; ErrorId = 'LedgerAuthenticationFailed'; Make = { $script:cs.Replace("Password=$($script:password)", "Password=wrong-$($script:password)") } }
        @{ Name = 'unknown host'; ErrorId = 'LedgerUnavailable'; Make = { $script:cs.Replace('Host=127.0.0.1', 'Host=no-such-host.invalid') } }
        @{ Name = 'nothing listening'; ErrorId = 'LedgerUnavailable'; Make = { $script:cs.Replace("Port=$($db.Port)", 'Port=1') } }
        @{ Name = 'missing database'; ErrorId = 'LedgerDatabaseNotFound'; Make = { $script:cs.Replace("Database=$($db.Name)", 'Database=no_such_db') } }
        @{ Name = 'malformed connection string'; ErrorId = 'DatabaseConnectionStringInvalid'; Make = { "Host=127.0.0.1;Password=$($script:password);Nonsense Key=1" } }
        @{ Name = 'schema that is not an identifier'; ErrorId = 'LedgerSchemaInvalid'; Make = { $script:cs }; Schema = 'x; DROP SCHEMA public' }
    ) {
        $documentBefore = Get-FileSnapshot $sandbox.FlagFile
        $rowsBefore = Get-LedgerRows
        $connection = & $Make
        $schemaArgument = if ($Schema) { @{ Schema = $Schema } } else { @{} }

        $output = & { try { Connect-FlagLedger -ConnectionString $connection @schemaArgument -Verbose -ErrorAction Stop } catch { $_ } } *>&1
        $record = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })[-1]
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        ($output | Out-String) + ($record | Format-List * -Force | Out-String) + $record.Exception.ToString() | Should -Not -Match ([regex]::Escape($script:password))

        { Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 40 -Reason 'after a failed connect' -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerNotConnected*'
        Get-FileSnapshot $sandbox.FlagFile | Should -Be $documentBefore
        Get-LedgerRows | Should -Be $rowsBefore
    }

    It 'a role that may not create the schema: LedgerPermissionDenied and no schema is created' {
        $role = 'plain_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Invoke-TestPostgresSql "CREATE ROLE $role LOGIN PASSWORD 'pw-$role'; GRANT CONNECT ON DATABASE $($db.Name) TO $role"
        $credential = [pscredential]::new($role, (ConvertTo-SecureString "pw-$role" -AsPlainText -Force))

        { Connect-FlagLedger -ConnectionString $script:csNoPassword -Credential $credential -Schema 'refused_schema' -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerPermissionDenied*'
        (Invoke-TestPostgresSql "SELECT count(*) FROM pg_namespace WHERE nspname = 'refused_schema'" $db.Name) | Should -Be '0'
    }

    It 'Get-FlagAudit filter values that look like SQL are values, not SQL' {
        $null = Connect-FlagLedger -ConnectionString $script:cs
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 10 -Reason 'before injection'
        $before = Get-LedgerRows

        @(Get-FlagAudit -Flag "x'; DROP TABLE pms_flags.events; --").Count | Should -Be 0
        @(Get-FlagAudit -User "' OR '1'='1").Count | Should -Be 0
        @(Get-FlagAudit -Environment "staging' OR 'a'='a").Count | Should -Be 0

        Get-LedgerRows | Should -Be $before
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }

    It 'a superuser who disables the trigger and edits an event is caught: Test-FlagAuditChain names its sequence' {
        $schema = 'tamper_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        foreach ($p in 10, 20, 30, 40) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "step $p" }
        { Invoke-TestPostgresSql "UPDATE $schema.events SET line = replace(line, 'step 30', 'step 31') WHERE sequence = 3" $db.Name } | Should -Throw '*append-only*'
        (Test-FlagAuditChain).Valid | Should -BeTrue

        $null = Invoke-TestPostgresSql "ALTER TABLE $schema.events DISABLE TRIGGER events_append_only; UPDATE $schema.events SET line = replace(line, 'step 30', 'step 31') WHERE sequence = 3; ALTER TABLE $schema.events ENABLE TRIGGER events_append_only" $db.Name

        $verdict = Test-FlagAuditChain
        $verdict.Valid | Should -BeFalse
        $verdict.FirstBrokenSequence | Should -Be 3
        $verdict.Problem | Should -Be 'modified'
    }

    It '-SigningKeyPath seals every append in the checkpoints table; a superuser who deletes the tail is caught by Test-FlagAuditChain -PublicKeyPath and on Connect' {
        $schema = 'sealed_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $ecdsa = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $private = Join-Path $sandbox.Root 'signing.pem'
        $public = Join-Path $sandbox.Root 'signing.pub.pem'
        Set-Content -LiteralPath $private -Value $ecdsa.ExportPkcs8PrivateKeyPem()
        Set-Content -LiteralPath $public -Value $ecdsa.ExportSubjectPublicKeyInfoPem()
        $ecdsa.Dispose()
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SigningKeyPath $private
        foreach ($p in 10, 20, 30, 40) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "step $p" }

        (Invoke-TestPostgresSql "SELECT count(*) FROM $schema.checkpoints" $db.Name) | Should -Be '4'
        $verdict = Test-FlagAuditChain -Ledger $ledger -PublicKeyPath $public
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.SealedSequence | Should -Be 4

        $null = Invoke-TestPostgresSql "ALTER TABLE $schema.events DISABLE TRIGGER USER; DELETE FROM $schema.events WHERE sequence > 2; ALTER TABLE $schema.events ENABLE TRIGGER USER" $db.Name

        (Test-FlagAuditChain -Ledger $ledger).Valid | Should -BeFalse
        $verdict = Test-FlagAuditChain -Ledger $ledger -PublicKeyPath $public 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.CheckpointVerified | Should -BeFalse
        { Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SigningKeyPath $private -NoDefault -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerTampered*'
        (Get-EventCount $schema) | Should -Be 2
        (Invoke-TestPostgresSql "SELECT count(*) FROM $schema.checkpoints" $db.Name) | Should -Be '4'
        $skipped = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SkipVerification -NoDefault 3>&1
        ($skipped | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }) -join ' ' | Should -Match 'failed verification at #'
    }
}

Describe 'PostgreSQL ledger with many agents' -Tag PostgresLedger {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '8 processes x 500 appends at once: one valid chain of 4,000 events, no gap, each writer in its own order' {
        $schema = 'many_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault
        # The engine's types live in the module's private load context: the child builds events through the ledger's own assembly.
        $writer = Write-ChildScript $sandbox.Root 'writer.ps1' @'
param($ModulePath, $ConnectionString, $Schema, $Name, $Go)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$ledger = Connect-FlagLedger -ConnectionString $ConnectionString -Schema $Schema -NoDefault
$eventType = $ledger.GetType().Assembly.GetType('PMS.Flags.Engine.Ledger.AuditEvent')
function New-Batch([string] $Reason) {
    $e = [Activator]::CreateInstance($eventType)
    $eventType.GetProperty('EventType').SetValue($e, 'feature_flag_toggled')
    $eventType.GetProperty('FeatureFlag').SetValue($e, "flag_$Name")
    $eventType.GetProperty('Environment').SetValue($e, 'staging')
    $eventType.GetProperty('UserId').SetValue($e, $Name)
    $eventType.GetProperty('Reason').SetValue($e, $Reason)
    $batch = [Array]::CreateInstance($eventType, 1)
    $batch[0] = $e
    , $batch
}
# One append to a warm-up schema first: a cold process compiles the append path while it holds the ledger lock, and
# eight of them at once on a loaded machine would make the last one wait longer than the lock timeout.
$warm = Connect-FlagLedger -ConnectionString $ConnectionString -Schema "$($Schema)_warm" -NoDefault
$null = $warm.AppendAsync((New-Batch 'warm-up'), $null, $false, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
Set-Content -LiteralPath "$Go.$Name.ready" -Value 'ready'
$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not (Test-Path -LiteralPath $Go)) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no go signal' }; Start-Sleep -Milliseconds 5 }
foreach ($i in 1..500) {
    $null = $ledger.AppendAsync((New-Batch "$Name/$i"), $null, $false, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
}
'done'
'@
        $go = Join-Path $sandbox.Root 'go'
        $names = 1..8 | ForEach-Object { "w$_" }
        $children = foreach ($name in $names) { Start-ChildPwsh -ScriptPath $writer -ArgumentList @($env:PMS_FLAGS_MODULE, $script:cs, $schema, $name, $go) }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(180)
            while (@($names | Where-Object { Test-Path "$go.$_.ready" }).Count -lt 8) {
                if ([DateTime]::UtcNow -gt $deadline) { throw 'the writers did not get ready' }
                if (@($children | Where-Object { $_.Process.HasExited }).Count) { throw "a writer exited early: $(($children | ForEach-Object { $_.Stderr.Result }) -join ' ')" }
                Start-Sleep -Milliseconds 50
            }
            Set-Content -LiteralPath $go -Value 'go'
            foreach ($child in $children) { if (-not $child.Process.WaitForExit(600000)) { throw 'a writer did not finish' } }
        }
        finally { foreach ($child in $children) { if (-not $child.Process.HasExited) { $child.Process.Kill() } } }
        foreach ($child in $children) {
            $child.Process.WaitForExit()
            $report = "exit $($child.Process.ExitCode)`n$($child.Stdout.Result)`n$($child.Stderr.Result)"
            $child.Process.ExitCode | Should -Be 0 -Because $report
            $child.Stdout.Result | Should -Match 'done' -Because $report
        }

        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault
        $verdict = Test-FlagAuditChain -Ledger $ledger
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.Count | Should -Be 4000
        (Invoke-TestPostgresSql "SELECT count(*) || '|' || min(sequence) || '|' || max(sequence) || '|' || count(DISTINCT prev_hash) FROM $schema.events" $db.Name) | Should -Be '4000|1|4000|3999'
        foreach ($name in $names) {
            $reasons = @(Get-FlagAudit -Ledger $ledger -User $name).Reason
            $reasons | Should -Be @(1..500 | ForEach-Object { "$name/$_" })
        }
        # They overlapped: the first writer to finish was not alone at the head of the chain.
        $firstHundred = @(Get-FlagAudit -Ledger $ledger -First 100).UserId | Sort-Object -Unique
        $firstHundred.Count | Should -BeGreaterThan 1
    }

    It 'PostgreSQL stops in the middle of a scripted rollout: changes are spooled, then flushed in order when it is back; zero loss' {
        $schema = 'outage_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 5 -Reason 'phase 1'
        $cluster = Start-TestPostgres
        Invoke-AsPostgresUser 'pg_ctl' @('-D', "$($cluster.Root)/data", '-m', 'fast', '-w', 'stop')
        try {
            $documentBefore = Get-FileSnapshot $sandbox.FlagFile
            { Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 25 -Reason 'phase 2 while down' -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerUnavailable*'
            Get-FileSnapshot $sandbox.FlagFile | Should -Be $documentBefore -Because 'a change that cannot be audited first is not made'
            # Switching off never waits for the ledger: the flag goes off and its event is spooled.
            $off = Disable-Flag -Flag new_billing_engine -Environment staging -Reason 'stop harm while the ledger is down' -Force 3>$null
            (Get-Flag -Flag new_billing_engine -Environment staging).On | Should -BeFalse
            $null = Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'second off while down' -Force 3>$null
            # Disable-Flag records one event, the emergency rollback its own as well; all of them wait in the spool.
            $spooled = @(Get-SpoolFile $sandbox).Count
            $spooled | Should -BeGreaterOrEqual 2
        }
        finally {
            Invoke-AsPostgresUser 'pg_ctl' @('-D', "$($cluster.Root)/data", '-l', "$($cluster.Root)/server.log", '-w', '-t', '30', '-o', "-p $($cluster.Port) -k $($cluster.Root) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", 'start')
        }

        $null = Set-FlagPercentage -Flag patient_portal_v2 -Environment staging -Percentage 10 -Reason 'after the outage'

        @(Get-SpoolFile $sandbox).Count | Should -Be 0
        $events = @(Get-FlagAudit)
        @($events.Sequence) | Should -Be @(1..(2 + $spooled))
        @($events.Reason | Select-Object -Unique) | Should -Be @('phase 1', 'stop harm while the ledger is down', 'second off while down', 'after the outage')
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }

    It 'Sync-style flush on Connect: an event spooled for this ledger is written by the next Connect-FlagLedger' {
        $schema = 'sync_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        $cluster = Start-TestPostgres
        Invoke-AsPostgresUser 'pg_ctl' @('-D', "$($cluster.Root)/data", '-m', 'fast', '-w', 'stop')
        try { $null = Disable-Flag -Flag new_billing_engine -Environment staging -Reason 'off while down' -Force 3>$null }
        finally {
            Invoke-AsPostgresUser 'pg_ctl' @('-D', "$($cluster.Root)/data", '-l', "$($cluster.Root)/server.log", '-w', '-t', '30', '-o', "-p $($cluster.Port) -k $($cluster.Root) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", 'start')
        }
        @(Get-SpoolFile $sandbox).Count | Should -Be 1

        $warnings = $null
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -WarningVariable warnings -WarningAction SilentlyContinue

        "$warnings" | Should -Match 'Wrote 1 spooled audit event'
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
        (Get-FlagAudit).Reason | Should -Be 'off while down'
    }
}

Describe 'Copy-FlagAudit' -Tag PostgresLedger {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath 3>$null
        foreach ($p in 10, 20, 30) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "laptop $p" }
        $jsonl = Connect-FlagLedger -Path $sandbox.LedgerPath -NoDefault
        $schema = 'copy_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $postgres = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'JSONL to PostgreSQL and back keeps every sequence and hash; each copy is recorded in its target' {
        $result = Copy-FlagAudit -From $jsonl -To $postgres -Reason 'move to the shared ledger'

        $result.Copied | Should -Be 3
        $result.AlreadyPresent | Should -Be 0
        $source = @(Get-FlagAudit -Ledger $jsonl)
        $copied = @(Get-FlagAudit -Ledger $postgres)
        @($copied[0..2].Hash) | Should -Be @($source.Hash)
        @($copied[0..2].Sequence) | Should -Be @(1, 2, 3)
        $copied[3].EventType | Should -Be 'audit_copied'
        $copied[3].Reason | Should -Be 'move to the shared ledger'
        (Test-FlagAuditChain -Ledger $postgres).Valid | Should -BeTrue

        $back = Connect-FlagLedger -Path (Join-Path $sandbox.Root 'audit/back.jsonl') -NoDefault 3>$null
        (Copy-FlagAudit -From $postgres -To $back -Reason 'take it out').Copied | Should -Be 4
        $lines = @(Get-Content -LiteralPath (Join-Path $sandbox.Root 'audit/back.jsonl'))
        $lines[0..2] | Should -Be @(Get-Content -LiteralPath $sandbox.LedgerPath) -Because 'the JSONL lines come back byte for byte'
        (Test-FlagAuditChain -Path (Join-Path $sandbox.Root 'audit/back.jsonl')).Valid | Should -BeTrue

        # Both moved on since (the target has its own audit_copied event): a second copy would fork the trail.
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 40 -Reason 'laptop 40'
        $before = Get-LedgerRows $schema
        { Copy-FlagAudit -From $jsonl -To $postgres -Reason 'second copy' -ErrorAction Stop } | Should -Throw -ErrorId 'AuditCopyTargetDiverged*' -Because 'the target has its own audit_copied event after the prefix'
        Get-LedgerRows $schema | Should -Be $before
    }

    It '-WhatIf copies nothing' {
        $before = Get-LedgerRows $schema
        Copy-FlagAudit -From $jsonl -To $postgres -Reason 'preview' -WhatIf
        Get-LedgerRows $schema | Should -Be $before
        (Get-EventCount $schema) | Should -Be 0
    }

    It '<Name>: <ErrorId> and the target is unchanged' -ForEach @(
        @{ Name = 'a target that is not a prefix of the source'; ErrorId = 'AuditCopyTargetDiverged'; Prepare = { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 90 -Reason 'other trail' -Ledger $postgres } }
        @{ Name = 'a source whose chain is broken'; ErrorId = 'AuditCopySourceBroken'; Prepare = { (Get-Content -LiteralPath $sandbox.LedgerPath) -replace 'laptop 20', 'laptop 21' | Set-Content -LiteralPath $sandbox.LedgerPath } }
        @{ Name = 'the same ledger twice'; ErrorId = 'AuditCopySameLedger'; Prepare = {}; SameLedger = $true }
    ) {
        & $Prepare
        $from = if ($SameLedger) { Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault } else { $jsonl }
        $before = Get-LedgerRows $schema

        { Copy-FlagAudit -From $from -To $postgres -Reason 'refused' -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId*"

        Get-LedgerRows $schema | Should -Be $before
    }
}

Describe 'A rollout shared through the PostgreSQL ledger' -Tag PostgresLedger {
    BeforeAll {
        $rolloutRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-pgrollout-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $rolloutRoot
        $backendFlags = Join-Path $rolloutRoot 'backend_flags.json'
        '{ "staging": { "telehealth_appointments_enabled": false } }' | Set-Content $backendFlags
        $backend = Start-BackendStandIn -FlagFile $backendFlags -Flag telehealth_appointments_enabled -Environment staging
    }
    AfterAll {
        Stop-StandIn $backend
        if (Test-Path -LiteralPath $rolloutRoot) { Remove-Item -LiteralPath $rolloutRoot -Recurse -Force }
    }
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'started here, stepped by two processes at once (exactly one advance), finished by a third' {
        $schema = 'rollout_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        $guardrail = New-FlagGuardrail -Name BackendHealth -HealthUrl "$($backend.BaseUri)/health" -Severity Warning
        $started = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 5, 100 -BakeTime 00:00:02 -Guardrail $guardrail -Reason 'shared rollout' -User starter -NoWait
        $id = $started.RolloutId
        $stepper = Write-ChildScript $sandbox.Root 'stepper.ps1' @'
param($ModulePath, $FlagFile, $ConnectionString, $Schema, $RolloutId, $Ready, $Go, $Name, $Until)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -ConnectionString $ConnectionString -Schema $Schema
Set-Content -LiteralPath $Ready -Value 'ready'
$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not (Test-Path -LiteralPath $Go)) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no go signal' }; Start-Sleep -Milliseconds 5 }
do {
    $result = Step-FlagRollout -RolloutId $RolloutId -User $Name -WarningAction SilentlyContinue
    "ACTION=$($result.Action)"
    if ([DateTime]::UtcNow -gt $deadline) { throw 'the rollout did not finish' }
    if ($Until -and "$($result.Action)" -ne $Until) { Start-Sleep -Milliseconds 500 }
} while ($Until -and "$($result.Action)" -ne $Until)
'@
        $bakeDue = (Get-FlagRollout -RolloutId $id).BakeDueAt
        $go = Join-Path $sandbox.Root 'go'
        $children = foreach ($name in 'agent-a', 'agent-b') {
            Start-ChildPwsh -ScriptPath $stepper -ArgumentList @($env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $script:cs, $schema, $id, (Join-Path $sandbox.Root "$name.ready"), $go, $name, '')
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while (-not ((Test-Path (Join-Path $sandbox.Root 'agent-a.ready')) -and (Test-Path (Join-Path $sandbox.Root 'agent-b.ready')) -and [DateTimeOffset]::UtcNow -gt $bakeDue.AddMilliseconds(200))) {
                if ([DateTime]::UtcNow -gt $deadline) { throw 'the agents did not get ready' }
                Start-Sleep -Milliseconds 50
            }
            Set-Content -LiteralPath $go -Value 'go'
            foreach ($child in $children) { if (-not $child.Process.WaitForExit(120000)) { throw 'an agent did not finish' } }
        }
        finally { foreach ($child in $children) { if (-not $child.Process.HasExited) { $child.Process.Kill() } } }
        $actions = foreach ($child in $children) {
            $child.Process.WaitForExit()
            $report = "exit $($child.Process.ExitCode)`n$($child.Stdout.Result)`n$($child.Stderr.Result)"
            $child.Process.ExitCode | Should -Be 0 -Because $report
            if ($child.Stdout.Result -notmatch 'ACTION=(\w+)') { throw "no action reported: $report" }
            $Matches[1]
        }
        @($actions | Where-Object { $_ -eq 'Advanced' }).Count | Should -Be 1 -Because "the actions were: $($actions -join ', ')"
        (Get-FlagRollout -RolloutId $id).StageNumber | Should -Be 2

        $finisher = Start-ChildPwsh -ScriptPath $stepper -ArgumentList @($env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $script:cs, $schema, $id, (Join-Path $sandbox.Root 'finisher.ready'), $go, 'finisher', 'Completed')
        if (-not $finisher.Process.WaitForExit(150000)) { $finisher.Process.Kill(); throw 'the finisher did not finish' }
        $finisher.Process.WaitForExit()
        $finisher.Process.ExitCode | Should -Be 0 -Because "$($finisher.Stdout.Result)`n$($finisher.Stderr.Result)"

        $state = Get-FlagRollout -RolloutId $id
        "$($state.Status)" | Should -Be 'Completed'
        $events = @(Get-FlagAudit -EventType rollout_started, rollout_stage_advanced, rollout_completed | Where-Object RolloutId -EQ $id)
        @($events | Where-Object EventType -EQ 'rollout_started').UserId | Should -Be 'starter'
        @($events | Where-Object EventType -EQ 'rollout_stage_advanced').Count | Should -Be 2 -Because 'stage 1 at the start and stage 2 once'
        @($events | Where-Object EventType -EQ 'rollout_completed').UserId | Should -Be 'finisher'
        (Read-FlagDocument $sandbox.FlagFile).staging.telehealth_appointments_enabled | Should -Be $true
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }
}
