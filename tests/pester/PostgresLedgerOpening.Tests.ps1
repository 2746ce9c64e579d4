#Requires -Version 7.4
# Verification on open of a PostgreSQL ledger through the BUILT module, against a real PostgreSQL 15: it starts at the
# last seal (an edit after it is refused, one before it is left to Test-FlagAuditChain), and a connection made with
# -SkipVerification to a tampered ledger is recorded in the next event, as on a JSONL ledger.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:db = New-TestDatabase 'pgopening'
    $script:cs = $db.ConnectionString

    function Edit-EventAsSuperuser([string] $Schema, [long] $Sequence, [string] $From, [string] $To) {
        $null = Invoke-TestPostgresSql "ALTER TABLE $Schema.events DISABLE TRIGGER USER; UPDATE $Schema.events SET line = replace(line, '$From', '$To') WHERE sequence = $Sequence; ALTER TABLE $Schema.events ENABLE TRIGGER USER" $script:db.Name
    }
}

AfterAll {
    Remove-TestDatabase $script:db
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Connect-FlagLedger -ConnectionString verifies from the last seal' -Tag PostgresLedger {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect; $null = Connect-FlagStore -Path $sandbox.FlagFile }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'refuses an edit after the seal, opens despite one before it (which Test-FlagAuditChain names)' {
        $schema = 'sealed_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $ecdsa = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $private = Join-Path $sandbox.Root 'signing.pem'
        Set-Content -LiteralPath $private -Value $ecdsa.ExportPkcs8PrivateKeyPem()
        $ecdsa.Dispose()
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SigningKeyPath $private
        foreach ($p in 10, 20, 30) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "sealed $p" }
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        foreach ($p in 40, 50) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "unsealed $p" }

        Edit-EventAsSuperuser $schema 2 'sealed 20' 'sealed 21'
        $opened = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault
        $opened | Should -Not -BeNullOrEmpty
        $verdict = Test-FlagAuditChain -Ledger $opened 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.FirstBrokenSequence | Should -Be 2

        Edit-EventAsSuperuser $schema 5 'unsealed 50' 'unsealed 51'
        $before = Invoke-TestPostgresSql "SELECT count(*) FROM $schema.events" $script:db.Name
        $failure = { Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerTampered,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand' -PassThru
        $failure.Exception.Message | Should -BeLike '*#5 (modified)*'
        Invoke-TestPostgresSql "SELECT count(*) FROM $schema.events" $script:db.Name | Should -Be $before
    }

    It 'records -SkipVerification on a tampered ledger in the next event' {
        $schema = 'skipped_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        foreach ($p in 10, 20, 30) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "step $p" }
        Edit-EventAsSuperuser $schema 2 'step 20' 'step 21'

        $null = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SkipVerification -WarningVariable warned 3>$null
        "$warned" | Should -BeLike '*failed verification at #2 (modified)*'
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 40 -Reason 'on top'
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 50 -Reason 'after that'

        $recorded = (Invoke-TestPostgresSql "SELECT line FROM $schema.events WHERE sequence = 4" $script:db.Name) | ConvertFrom-Json
        $recorded.details.verification_skipped | Should -BeLike 'modified at #2 (*'
        $next = (Invoke-TestPostgresSql "SELECT line FROM $schema.events WHERE sequence = 5" $script:db.Name) | ConvertFrom-Json
        $next.details.verification_skipped | Should -BeNullOrEmpty
    }
}
