#Requires -Version 7.4
# Signed checkpoints on the PostgreSQL ledger through the BUILT module, against a real PostgreSQL 15 (the run's
# throwaway cluster, a database for this file): New-FlagAuditCheckpoint sealing the ledger's head into its checkpoints
# table, and Copy-FlagAudit carrying a ledger's checkpoints JSONL -> PostgreSQL -> JSONL. Keys are made by the real
# openssl as an operator would. Every refusal is checked by ErrorId AND by unchanged rows or files.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedPg = @{}
    foreach ($name in 'PGPASSWORD', 'PGPASSFILE', 'DATABASE_URL') { $script:savedPg[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $null) }
    $script:db = New-TestDatabase 'pgseal'
    $script:cs = $db.ConnectionString

    function New-KeyPair([string] $Folder, [string] $Name) {
        $private = Join-Path $Folder "$Name.pem"
        $public = Join-Path $Folder "$Name.pub.pem"
        openssl ecparam -name prime256v1 -genkey -noout -out $private 2>$null
        if ($LASTEXITCODE -ne 0) { throw 'openssl could not create a key' }
        openssl ec -in $private -pubout -out $public 2>$null
        if ($LASTEXITCODE -ne 0) { throw 'openssl could not write the public key' }
        [pscustomobject]@{ Private = $private; Public = $public }
    }

    function New-Schema { 'seal_' + [guid]::NewGuid().ToString('N').Substring(0, 8) }

    # Row counts and contents straight from the database, as the superuser: what the module says is not the evidence.
    function Get-Rows([string] $Schema) {
        if ((Invoke-TestPostgresSql "SELECT to_regclass('$Schema.events') IS NOT NULL" $script:db.Name) -ne 't') { return '<no table>' }
        "events=$(Invoke-TestPostgresSql "SELECT count(*) || ':' || coalesce(string_agg(hash, ',' ORDER BY sequence), '') FROM $Schema.events" $script:db.Name) " +
        "checkpoints=$(Invoke-TestPostgresSql "SELECT count(*) || ':' || coalesce(string_agg(md5(document), ',' ORDER BY number), '') FROM $Schema.checkpoints" $script:db.Name)"
    }

    function Get-CheckpointDocuments([string] $Schema) {
        @(Invoke-TestPostgresSql "SELECT document FROM $Schema.checkpoints ORDER BY number" $script:db.Name | Where-Object { $_ })
    }

    function Get-Lines([string] $Path) { @([IO.File]::ReadAllText($Path).Split("`n") | Where-Object { $_ }) }

    function Add-Change([int] $Count, $Ledger) {
        foreach ($i in 1..$Count) {
            $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage $i -Reason "change $i" -Ledger $Ledger
        }
    }
}

AfterAll {
    Remove-TestDatabase $script:db
    foreach ($name in $script:savedPg.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedPg[$name]) }
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'New-FlagAuditCheckpoint on a PostgreSQL ledger' -Tag PostgresCheckpoints {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $key = New-KeyPair $sandbox.Root 'signing'
        $schema = New-Schema
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'seals the head into the checkpoints table after recording the event; -WhatIf and a missing key change nothing; Test-FlagAuditChain verifies it' {
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        Add-Change 2 $ledger
        $before = Get-Rows $schema

        New-FlagAuditCheckpoint -SigningKeyPath $key.Private -WhatIf
        Get-Rows $schema | Should -Be $before -Because '-WhatIf records no event and writes no checkpoint'
        { New-FlagAuditCheckpoint -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointKeyRequired,PMS.Flags.Cmdlets.Commands.NewFlagAuditCheckpointCommand'
        Get-Rows $schema | Should -Be $before

        $checkpoint = New-FlagAuditCheckpoint -SigningKeyPath $key.Private -Reason 'before the audit'

        $checkpoint.Sequence | Should -Be 3
        $checkpoint.LedgerLength | Should -BeNullOrEmpty -Because 'a table has no byte offsets'
        $last = Get-FlagAudit -Newest 1
        $last.EventType | Should -Be 'ledger_checkpoint_sealed'
        $last.Reason | Should -Be 'before the audit'
        $last.Hash | Should -Be $checkpoint.HeadHash -Because 'the seal covers its own event'
        @(Get-CheckpointDocuments $schema) | Should -Be @($checkpoint.ToLine())
        $verdict = Test-FlagAuditChain -PublicKeyPath $key.Public
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.Count | Should -Be 3
        $verdict.SealedSequence | Should -Be 3
        $verdict.UnsealedCount | Should -Be 0
        (Get-Lines $key.Private)[1] | Should -Not -BeIn @(Get-CheckpointDocuments $schema)
    }

    It 'uses the key the ledger was connected with, chaining to the checkpoints sealed on every append' {
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SigningKeyPath $key.Private
        Add-Change 2 $ledger

        $checkpoint = New-FlagAuditCheckpoint -Ledger $ledger

        $documents = @(Get-CheckpointDocuments $schema)
        $documents.Count | Should -Be 3
        $documents[-1] | Should -Be $checkpoint.ToLine()
        $checkpoint.PreviousSignature | Should -Be (($documents[1] | ConvertFrom-Json).signature)
        $verdict = Test-FlagAuditChain -Ledger $ledger -PublicKeyPath $key.Public
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.SealedSequence | Should -Be 3
    }

    It 'refuses -CheckpointPath with CheckpointPathNotApplicable and writes nothing anywhere' {
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        Add-Change 1 $ledger
        $before = Get-Rows $schema
        $file = Join-Path $sandbox.Root 'checkpoints.jsonl'

        { New-FlagAuditCheckpoint -SigningKeyPath $key.Private -CheckpointPath $file -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointPathNotApplicable,PMS.Flags.Cmdlets.Commands.NewFlagAuditCheckpointCommand'

        Get-Rows $schema | Should -Be $before
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'never blesses a tampered ledger: LedgerTampered, no event, no checkpoint' {
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        Add-Change 3 $ledger
        $null = Invoke-TestPostgresSql "ALTER TABLE $schema.events DISABLE TRIGGER events_append_only; UPDATE $schema.events SET line = replace(line, 'change 2', 'change 9') WHERE sequence = 2; ALTER TABLE $schema.events ENABLE TRIGGER events_append_only" $db.Name
        $before = Get-Rows $schema

        { New-FlagAuditCheckpoint -SigningKeyPath $key.Private -ErrorAction Stop } | Should -Throw -ErrorId 'LedgerTampered*'

        Get-Rows $schema | Should -Be $before
    }

    It 'seals exactly the event it records while another process appends to the same ledger' {
        $ledger = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema
        Add-Change 1 $ledger
        $writer = Join-Path $sandbox.Root 'writer.ps1'
        Set-Content -LiteralPath $writer -Value @'
param($ModulePath, $FlagFile, $ConnectionString, $Schema, $Ready)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -ConnectionString $ConnectionString -Schema $Schema
Set-Content -LiteralPath $Ready -Value 'ready'
foreach ($i in 1..40) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage ($i % 100) -Reason "writer $i" }
'done'
'@
        $ready = Join-Path $sandbox.Root 'ready'
        $child = Start-ChildPwsh -ScriptPath $writer -ArgumentList @($env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $script:cs, $schema, $ready)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while (-not (Test-Path -LiteralPath $ready) -and -not $child.Process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $checkpoints = foreach ($i in 1..5) { New-FlagAuditCheckpoint -SigningKeyPath $key.Private -Reason "seal $i" }
            $child.Process.WaitForExit(180000) | Should -BeTrue
        }
        finally { if (-not $child.Process.HasExited) { $child.Process.Kill() } }
        $child.Process.ExitCode | Should -Be 0 -Because "$($child.Stdout.Result)$($child.Stderr.Result)"

        $events = @(Get-FlagAudit -First 1000)
        $events.Count | Should -Be 46
        foreach ($checkpoint in $checkpoints) {
            $sealed = $events | Where-Object Sequence -EQ $checkpoint.Sequence
            $sealed.EventType | Should -Be 'ledger_checkpoint_sealed' -Because 'no other append can come between the event and its seal'
            $sealed.Hash | Should -Be $checkpoint.HeadHash
        }
        (Test-FlagAuditChain -PublicKeyPath $key.Public).Valid | Should -BeTrue
    }
}

Describe 'Copy-FlagAudit carries signed checkpoints' -Tag PostgresCheckpoints {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $key = New-KeyPair $sandbox.Root 'signing'
        $jsonl = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private -NoDefault 3>$null
        Add-Change 3 $jsonl
        $sourceCheckpoints = "$($sandbox.LedgerPath).checkpoints.jsonl"
        $schema = New-Schema
        $postgres = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -NoDefault
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'JSONL to PostgreSQL to JSONL: every checkpoint arrives unchanged and verifies on both' {
        $result = Copy-FlagAudit -From $jsonl -To $postgres -Reason 'move to the shared ledger'

        $result.Copied | Should -Be 3
        $result.CheckpointsCopied | Should -Be 3
        $result.CheckpointsAlreadyPresent | Should -Be 0
        @(Get-CheckpointDocuments $schema) | Should -Be @(Get-Lines $sourceCheckpoints)
        $copied = @(Get-FlagAudit -Ledger $postgres)
        $copied[3].EventType | Should -Be 'audit_copied'
        ($copied[3].Details | ConvertFrom-Json).checkpoints_copied | Should -Be 3
        $source = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public
        $verdict = Test-FlagAuditChain -Ledger $postgres -PublicKeyPath $key.Public
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.SealedSequence | Should -Be $source.SealedSequence
        $verdict.SealedHead | Should -Be $source.SealedHead

        $backPath = Join-Path $sandbox.Root 'audit/back.jsonl'
        $back = Connect-FlagLedger -Path $backPath -NoDefault 3>$null
        $again = Copy-FlagAudit -From $postgres -To $back -Reason 'take it out'

        $again.Copied | Should -Be 4
        $again.CheckpointsCopied | Should -Be 3
        Get-Lines "$backPath.checkpoints.jsonl" | Should -Be (Get-Lines $sourceCheckpoints) -Because 'the signed documents come back byte for byte'
        (Get-Lines $backPath)[0..2] | Should -Be (Get-Lines $sandbox.LedgerPath)
        $backVerdict = Test-FlagAuditChain -Path $backPath -PublicKeyPath $key.Public
        $backVerdict.Valid | Should -BeTrue -Because $backVerdict.Message
        $backVerdict.CheckpointVerified | Should -BeTrue
        $backVerdict.SealedSequence | Should -Be 3
        # Verification on open starts at the last checkpoint's byte offset, which holds in the copied file; sealing
        # carries on from the copied checkpoints.
        $reopened = Connect-FlagLedger -Path $backPath -SigningKeyPath $key.Private -NoDefault 3>$null
        Add-Change 1 $reopened
        $sealedOn = Test-FlagAuditChain -Path $backPath -PublicKeyPath $key.Public
        $sealedOn.Valid | Should -BeTrue -Because $sealedOn.Message
        $sealedOn.SealedSequence | Should -Be 6
    }

    It 'a target connected with a signing key seals the audit_copied event, chained to the copied checkpoints' {
        $sealing = Connect-FlagLedger -ConnectionString $script:cs -Schema $schema -SigningKeyPath $key.Private -NoDefault

        $result = Copy-FlagAudit -From $jsonl -To $sealing -Reason 'move'

        $result.CheckpointsCopied | Should -Be 3
        $documents = @(Get-CheckpointDocuments $schema)
        $documents.Count | Should -Be 4
        $documents[0..2] | Should -Be (Get-Lines $sourceCheckpoints)
        ($documents[3] | ConvertFrom-Json).sequence | Should -Be 4
        $verdict = Test-FlagAuditChain -Ledger $sealing -PublicKeyPath $key.Public
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.SealedSequence | Should -Be 4
    }

    It '-WhatIf says how many checkpoints would be copied and copies nothing' {
        $before = Get-Rows $schema
        $backPath = Join-Path $sandbox.Root 'audit/preview.jsonl'
        $back = Connect-FlagLedger -Path $backPath -NoDefault 3>$null
        $beforeFiles = Get-FileSnapshot $backPath, "$backPath.checkpoints.jsonl"

        # "What if:" goes to the host, not to a stream, so it is read from a child pwsh's standard output.
        $preview = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.LedgerPath, $script:cs, $schema, $backPath -Script @'
param($ModulePath, $LedgerPath, $ConnectionString, $Schema, $BackPath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$jsonl = Connect-FlagLedger -Path $LedgerPath -NoDefault 3>$null
$postgres = Connect-FlagLedger -ConnectionString $ConnectionString -Schema $Schema -NoDefault
$back = Connect-FlagLedger -Path $BackPath -NoDefault 3>$null
$out = @(Copy-FlagAudit -From $jsonl -To $postgres -Reason 'preview' -WhatIf) + @(Copy-FlagAudit -From $jsonl -To $back -Reason 'preview' -WhatIf)
"OUTPUT-COUNT=$($out.Count)"
'@

        $preview.ExitCode | Should -Be 0 -Because $preview.Output
        $preview.Output | Should -Match 'What if: .*Copy 3 audit event\(s\) and 3 signed checkpoint\(s\)'
        $preview.Output | Should -Match 'OUTPUT-COUNT=0'
        Get-Rows $schema | Should -Be $before
        Get-FileSnapshot $backPath, "$backPath.checkpoints.jsonl" | Should -Be $beforeFiles
    }

    It 'refuses a target whose checkpoints are not the source''s first ones: <Name>' -ForEach @(
        @{ Name = 'PostgreSQL table'; Target = 'postgres' }
        @{ Name = 'JSONL file'; Target = 'jsonl' }
    ) {
        # The target holds the source's second checkpoint where its first belongs (one was lost on the way).
        $second = (Get-Lines $sourceCheckpoints)[1]
        if ($Target -eq 'postgres') {
            $parsed = $second | ConvertFrom-Json
            $null = Invoke-TestPostgresSql "INSERT INTO $schema.checkpoints (number, sequence, head_hash, document) VALUES (1, $($parsed.sequence), '$($parsed.head_hash)', '$second')" $db.Name
            $to = $postgres
            $snapshot = { Get-Rows $schema }
        }
        else {
            # The source's first two events byte for byte, sealed by its second checkpoint alone: a valid ledger.
            $targetPath = Join-Path $sandbox.Root 'audit/target.jsonl'
            [IO.File]::WriteAllText($targetPath, (((Get-Lines $sandbox.LedgerPath)[0..1] | ForEach-Object { "$_`n" }) -join ''))
            [IO.File]::WriteAllText("$targetPath.checkpoints.jsonl", "$second`n")
            $to = Connect-FlagLedger -Path $targetPath -NoDefault 3>$null
            $snapshot = { Get-FileSnapshot $targetPath, "$targetPath.checkpoints.jsonl" }
        }
        $before = & $snapshot

        { Copy-FlagAudit -From $jsonl -To $to -Reason 'refused' -ErrorAction Stop } | Should -Throw -ErrorId 'AuditCopyCheckpointsDiverged*'

        & $snapshot | Should -Be $before
    }

    It 'a target checkpoint path that is a folder is refused before anything is copied; once fixed, the copy runs' {
        $backPath = Join-Path $sandbox.Root 'audit/back.jsonl'
        $back = Connect-FlagLedger -Path $backPath -NoDefault 3>$null
        $null = New-Item -ItemType Directory "$backPath.checkpoints.jsonl"

        $before = Get-FileSnapshot $backPath

        { Copy-FlagAudit -From $jsonl -To $back -Reason 'refused' -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointFileMalformed*'
        Get-FileSnapshot $backPath | Should -Be $before

        Remove-Item -LiteralPath "$backPath.checkpoints.jsonl"
        (Copy-FlagAudit -From $jsonl -To $back -Reason 'fixed').CheckpointsCopied | Should -Be 3
        (Test-FlagAuditChain -Path $backPath -PublicKeyPath $key.Public).CheckpointVerified | Should -BeTrue
    }
}
