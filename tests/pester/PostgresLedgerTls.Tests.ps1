#Requires -Version 7.4
# SslMode is honoured by the PostgreSQL ledger (issue 14, item 1), against a real PostgreSQL 15 cluster of its own that
# accepts only TLS connections (pg_hba: hostssl, and hostnossl rejected) with a server certificate from a throwaway CA:
# encryption is used when asked for, the certificate is checked when verify-full asks for it, and a connection that
# cannot be made as the connection string demands is refused with its ErrorId, changing nothing.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedPg = @{}
    # Removed, not emptied: psql (used to count rows) refuses an empty PGSSLMODE.
    foreach ($name in 'PGPASSWORD', 'PGPASSFILE', 'PGSSLMODE', 'PGSSLROOTCERT', 'DATABASE_URL') { $script:savedPg[$name] = [Environment]::GetEnvironmentVariable($name); Remove-Item -LiteralPath "Env:$name" -ErrorAction SilentlyContinue }

    $script:root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-pgtls-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Force $root
    $tls = Join-Path $root 'tls'
    $null = New-Item -ItemType Directory -Force $tls
    function Invoke-OpenSsl([string[]] $Arguments) {
        $output = & openssl @Arguments 2>&1
        if ($LASTEXITCODE) { throw "openssl $($Arguments[0]) failed: $($output -join "`n")" }
    }
    # A CA nobody trusts but this test, and a server certificate it signs for 127.0.0.1 (what verify-full checks).
    Invoke-OpenSsl @('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=PMS.Flags test CA', '-keyout', "$tls/ca.key", '-out', "$tls/ca.pem")
    Invoke-OpenSsl @('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', "$tls/server.key", '-out', "$tls/server.csr")
    Set-Content -LiteralPath "$tls/san.ext" -Value 'subjectAltName=IP:127.0.0.1'
    Invoke-OpenSsl @('x509', '-req', '-in', "$tls/server.csr", '-CA', "$tls/ca.pem", '-CAkey', "$tls/ca.key", '-CAcreateserial', '-days', '2', '-extfile', "$tls/san.ext", '-out', "$tls/server.pem")
    # A second CA, which signed nothing here: trusting it must not make the server's certificate acceptable.
    Invoke-OpenSsl @('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=Some other CA', '-keyout', "$tls/other.key", '-out', "$tls/other.pem")

    $script:password = 'pgtls-' + [guid]::NewGuid().ToString('N')
    $pwFile = Join-Path $root 'pwfile'
    [IO.File]::WriteAllText($pwFile, $password)
    if ([Environment]::UserName -eq 'root') { & chown -R postgres:postgres $root; & chmod 700 $root }
    & chmod 600 "$tls/server.key"
    $script:port = Get-FreeTcpPort
    Invoke-AsPostgresUser 'initdb' @('-D', "$root/data", '-U', 'postgres', "--pwfile=$pwFile", '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8')
    [IO.File]::Delete($pwFile)
    # Only TLS over TCP: a client that does not encrypt is turned away by the server, not by our code.
    Set-Content -LiteralPath "$root/data/pg_hba.conf" -Value @(
        'local all all trust'
        'hostssl all all 127.0.0.1/32 scram-sha-256'
        'hostnossl all all 127.0.0.1/32 reject'
    )
    if ([Environment]::UserName -eq 'root') { & chown postgres:postgres "$root/data/pg_hba.conf" }
    $options = "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key -c log_connections=on"
    Invoke-AsPostgresUser 'pg_ctl' @('-D', "$root/data", '-l', "$root/server.log", '-w', '-t', '30', '-o', $options, 'start')
    $script:started = $true
    $script:caFile = "$tls/ca.pem"
    $script:otherCaFile = "$tls/other.pem"
    $script:base = "Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres;Pooling=false"

    function Invoke-TlsClusterSql([string] $Sql) {
        $psql = '/usr/lib/postgresql/15/bin/psql'
        $arguments = @('-h', $script:root, '-p', "$script:port", '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', $Sql)
        $output = if ([Environment]::UserName -eq 'root') { & runuser -u postgres -- $psql @arguments 2>&1 } else { & $psql @arguments 2>&1 }
        if ($LASTEXITCODE) { throw "psql failed ($LASTEXITCODE): $($output -join "`n")" }
        @($output | ForEach-Object { "$_" })
    }

    function Get-TlsEventCount {
        if ((Invoke-TlsClusterSql "SELECT to_regclass('pms_flags.events') IS NOT NULL") -ne 't') { return '<no table>' }
        [long](Invoke-TlsClusterSql 'SELECT count(*) FROM pms_flags.events')
    }
}

AfterAll {
    if ($script:started) { Invoke-AsPostgresUser 'pg_ctl' @('-D', "$script:root/data", '-m', 'fast', '-w', 'stop') }
    Remove-Item -LiteralPath $script:root -Recurse -Force -ErrorAction SilentlyContinue
    foreach ($name in $script:savedPg.Keys) { if ($null -ne $script:savedPg[$name]) { [Environment]::SetEnvironmentVariable($name, $script:savedPg[$name]) } }
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Connect-FlagLedger honours SslMode' -Tag PostgresLedger {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect; $null = Connect-FlagStore -Path $sandbox.FlagFile }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'SslMode=Require encrypts: the server logs the ledger''s connection as TLS, and a change is recorded' {
        $ledger = Connect-FlagLedger -ConnectionString "$base;SslMode=Require"
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 5 -Reason 'tls' -ApprovalTicket 'TICKET-1' -Confirm:$false

        (Get-FlagAudit -Ledger $ledger -Flag new_billing_engine).RolloutPercentage | Should -Be @(5)
        # The server's own record of the connection: nothing of ours can fake it.
        Get-Content -LiteralPath "$root/server.log" -Raw | Should -Match 'connection authorized: user=postgres database=postgres application_name=PMS\.Flags SSL enabled \(protocol=TLSv1\.[23]'
        (Test-FlagAuditChain -Ledger $ledger).Valid | Should -BeTrue
    }

    It 'SslMode=VerifyFull with the CA that signed the server''s certificate connects' {
        $ledger = Connect-FlagLedger -ConnectionString "$base;SslMode=VerifyFull;Root Certificate=$caFile"

        $ledger.Host | Should -Be '127.0.0.1'
        (Test-FlagAuditChain -Ledger $ledger).Valid | Should -BeTrue
    }

    It '<Name>: <ErrorId>, the session has no ledger, nothing changed, and the password is nowhere' -ForEach @(
        @{ Name = 'verify-full without trusting the server''s CA'; Suffix = 'SslMode=VerifyFull'; ErrorId = 'LedgerTlsFailed'; Category = 'AuthenticationError' }
        @{ Name = 'verify-full with a CA that did not sign the certificate'; Suffix = 'SslMode=VerifyFull;Root Certificate={other}'; ErrorId = 'LedgerTlsFailed'; Category = 'AuthenticationError' }
        @{ Name = 'verify-ca with a CA that did not sign the certificate'; Suffix = 'SslMode=VerifyCA;Root Certificate={other}'; ErrorId = 'LedgerTlsFailed'; Category = 'AuthenticationError' }
        @{ Name = 'TLS switched off against a server that only accepts TLS'; Suffix = 'SslMode=Disable'; ErrorId = 'LedgerAuthenticationFailed'; Category = 'AuthenticationError' }
    ) {
        $documentBefore = Get-FileSnapshot $sandbox.FlagFile
        $rowsBefore = Get-TlsEventCount
        $connection = "$base;" + $Suffix.Replace('{other}', $otherCaFile)

        $output = & { try { Connect-FlagLedger -ConnectionString $connection -Verbose -ErrorAction Stop } catch { $_ } } *>&1
        $record = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })[-1]
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $record.CategoryInfo.Category | Should -Be $Category
        ($output | Out-String) + ($record | Format-List * -Force | Out-String) + $record.Exception.ToString() | Should -Not -Match ([regex]::Escape($password))

        { Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 40 -Reason 'after a refused connect' -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerNotConnected*'
        Get-FileSnapshot $sandbox.FlagFile | Should -Be $documentBefore
        Get-TlsEventCount | Should -Be $rowsBefore
    }

    It 'SslMode=Require against a server without TLS: LedgerTlsFailed, never a silent plain-text connection' {
        $plain = New-TestDatabase 'pgnotls'
        try {
            $output = & { try { Connect-FlagLedger -ConnectionString "$($plain.ConnectionString);SslMode=Require;Pooling=false" -ErrorAction Stop } catch { $_ } } *>&1
            $record = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })[-1]

            $record.FullyQualifiedErrorId | Should -BeLike 'LedgerTlsFailed,*'
            $record.Exception.Message | Should -Match 'SslMode=Require'
            ($output | Out-String) + $record.Exception.ToString() | Should -Not -Match ([regex]::Escape($plain.Password))
            # Refused before the ledger's schema was created: the plain-text database holds nothing of ours.
            Invoke-TestPostgresSql "SELECT to_regnamespace('pms_flags') IS NULL" $plain.Name | Should -Be 't'
        }
        finally { Remove-TestDatabase $plain }
    }
}
