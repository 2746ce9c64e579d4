#Requires -Version 7.4
# Get-FlagAudit's pages (-First, -Newest, -Skip, -AfterSequence) and Export-FlagAudit's streaming through the BUILT
# module: the same pages from a JSONL file and from PostgreSQL (the run's throwaway cluster), refusals with their
# ErrorIds, an export that fails midway leaving nothing behind, and the HTML report's checkpoint verdict on PostgreSQL.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:db = New-TestDatabase 'paging'

    function Add-Changes([int] $Count) {
        foreach ($i in 1..$Count) {
            $flag = if ($i % 3) { 'new_billing_engine' } else { 'new_scheduler' }
            $null = Set-FlagPercentage -Flag $flag -Environment staging -Percentage $i -Reason "change $i"
        }
    }

    function Get-Ids($Events) { @($Events | ForEach-Object { "$($_.Sequence):$($_.EventId)" }) -join ',' }
}

AfterAll {
    Remove-TestDatabase $script:db
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Get-FlagAudit pages' -Tag AuditPaging, Audit {
    BeforeAll {
        $script:sandbox = New-FlagSandbox
        Add-Changes 20
        $script:file = $sandbox.Ledger
        $schema = 'paging_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:pg = Connect-FlagLedger -ConnectionString $script:db.ConnectionString -Schema $schema -NoDefault
        # The copy keeps every sequence and hash, and records itself as one more event in PostgreSQL only: the pages
        # compared below are those both ledgers hold.
        $null = Copy-FlagAudit -From $script:file -To $script:pg -Reason 'paging test' -Confirm:$false
    }
    AfterAll { Remove-FlagSandbox $script:sandbox }

    It 'gives the same page from the file and from PostgreSQL for <Name>' -ForEach @(
        @{ Name = '-First -Skip'; Page = @{ First = 4; Skip = 3 } }
        @{ Name = '-AfterSequence -First'; Page = @{ AfterSequence = 9; First = 5 } }
        @{ Name = '-Flag -AfterSequence'; Page = @{ Flag = 'new_billing_engine'; AfterSequence = 6; First = 3 } }
        @{ Name = '-EventType -Newest -Skip'; Page = @{ EventType = 'feature_flag_toggled'; Newest = 3; Skip = 2 } }
        @{ Name = '-Flag -Newest -AfterSequence'; Page = @{ Flag = 'new_scheduler'; Newest = 2; AfterSequence = 3 } }
        @{ Name = '-Skip past the end'; Page = @{ Skip = 1000 } }
        @{ Name = 'an SQL-looking flag'; Page = @{ Flag = "x' OR '1'='1"; First = 3 } }
    ) {
        $fromFile = @(Get-FlagAudit -Ledger $script:file @Page)
        $fromDatabase = @(Get-FlagAudit -Ledger $script:pg @Page)
        Get-Ids $fromDatabase | Should -Be (Get-Ids $fromFile)
    }

    It 'pages as defined: -First -Skip, -Newest -Skip (the next page back), -AfterSequence' {
        $all = @(Get-FlagAudit -Ledger $script:pg)
        $all.Count | Should -BeGreaterThan 20
        Get-Ids (Get-FlagAudit -Ledger $script:pg -First 4 -Skip 3) | Should -Be (Get-Ids $all[3..6])
        Get-Ids (Get-FlagAudit -Ledger $script:pg -Newest 3 -Skip 3) | Should -Be (Get-Ids $all[-4..-6])
        Get-Ids (Get-FlagAudit -Ledger $script:pg -AfterSequence $all[-3].Sequence) | Should -Be (Get-Ids $all[-2..-1])
    }

    It 'walks the whole trail page by page with -First and -AfterSequence: every event once, in order' {
        foreach ($ledger in $script:file, $script:pg) {
            $walked = [Collections.Generic.List[object]]::new()
            $after = 0
            do {
                $page = @(Get-FlagAudit -Ledger $ledger -Flag new_billing_engine -First 4 -AfterSequence $after)
                $walked.AddRange($page)
                if ($page.Count) { $after = $page[-1].Sequence }
            } while ($page.Count -eq 4)
            Get-Ids $walked | Should -Be (Get-Ids (Get-FlagAudit -Ledger $ledger -Flag new_billing_engine))
        }
    }

    It 'refuses <Name> with <ErrorId> and changes nothing' -ForEach @(
        @{ Name = '-IncludePending with -AfterSequence'; ErrorId = 'AuditPagingConflict,*'; Action = { Get-FlagAudit -IncludePending -AfterSequence 3 } }
        @{ Name = '-IncludePending with -Skip'; ErrorId = 'AuditPagingConflict,*'; Action = { Get-FlagAudit -IncludePending -Skip 3 } }
        @{ Name = '-First with -Newest'; ErrorId = 'AuditRangeConflict,*'; Action = { Get-FlagAudit -First 1 -Newest 1 -Skip 1 } }
        @{ Name = 'a negative -Skip'; ErrorId = 'ParameterArgumentValidationError,*'; Action = { Get-FlagAudit -Skip -1 } }
        @{ Name = 'a negative -AfterSequence'; ErrorId = 'ParameterArgumentValidationError,*'; Action = { Get-FlagAudit -AfterSequence -1 } }
    ) {
        $before = [IO.File]::ReadAllBytes($script:sandbox.LedgerPath)
        { & $Action } | Should -Throw -ErrorId $ErrorId
        [IO.File]::ReadAllBytes($script:sandbox.LedgerPath) | Should -Be $before
    }
}

Describe 'Export-FlagAudit streams' -Tag AuditPaging, Export {
    BeforeEach { $sandbox = New-FlagSandbox; Add-Changes 5 }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'a <Format> export whose input fails midway leaves no file and no temporary file, and an old target as it was' -ForEach @(
        @{ Format = 'Json' }, @{ Format = 'Csv' }, @{ Format = 'Html' }
    ) {
        $target = Join-Path $sandbox.Root "export.$Format"
        { & { Get-FlagAudit; throw 'the ledger went away' } | Export-FlagAudit -Format $Format -Path $target } | Should -Throw '*went away*'
        Test-Path $target | Should -BeFalse
        @(Get-ChildItem $sandbox.Root -Filter '*.tmp*') | Should -BeNullOrEmpty

        Set-Content -LiteralPath $target -Value 'keep me'
        { & { Get-FlagAudit; throw 'the ledger went away' } | Export-FlagAudit -Format $Format -Path $target -Force } | Should -Throw '*went away*'
        Get-Content -Raw $target | Should -Be "keep me$([Environment]::NewLine)"
        @(Get-ChildItem $sandbox.Root -Filter '*.tmp*') | Should -BeNullOrEmpty
    }

    It 'writes a <Format> export while the events are still coming: the temporary file holds them before the pipeline ends' -ForEach @(
        @{ Format = 'Json' }, @{ Format = 'Csv' }, @{ Format = 'Html' }
    ) {
        $target = Join-Path $sandbox.Root "export.$Format"
        $one = Get-FlagAudit -First 1
        $root = $sandbox.Root
        $script:midway = $null
        & {
            foreach ($i in 1..20000) {
                if ($i -eq 15000) {
                    $script:midway = [pscustomobject]@{
                        Bytes  = (Get-ChildItem $root -File | Where-Object Name -Like 'export.*.tmp*' | Measure-Object Length -Sum).Sum
                        Target = Test-Path $target
                    }
                }
                $one
            }
        } | Export-FlagAudit -Format $Format -Path $target | Out-Null
        $script:midway.Bytes | Should -BeGreaterThan 1MB -Because 'a buffering export writes nothing until the pipeline ends'
        $script:midway.Target | Should -BeFalse
        @(Get-ChildItem $root -Filter '*.tmp*') | Should -BeNullOrEmpty
    }

    It 'a stopped pipeline (Select-Object -First downstream) leaves no temporary file' {
        $target = Join-Path $sandbox.Root 'export.json'
        $null = Get-FlagAudit | Export-FlagAudit -Format Json -Path $target | Select-Object -First 1
        Test-Path $target | Should -BeTrue
        @(Get-ChildItem $sandbox.Root -Filter '*.tmp*') | Should -BeNullOrEmpty
        (Get-Content -Raw $target | ConvertFrom-Json).Count | Should -Be 5
    }

    It 'an empty pipeline exports an empty <Format> file' -ForEach @(@{ Format = 'Json'; Expected = "[]`n" }, @{ Format = 'Csv'; Expected = $null }) {
        $target = Join-Path $sandbox.Root "empty.$Format"
        @() | Export-FlagAudit -Format $Format -Path $target | Out-Null
        if ($Expected) { [IO.File]::ReadAllText($target) | Should -Be $Expected }
        else { @([IO.File]::ReadAllLines($target)).Count | Should -Be 1 }
    }

    It 'an Html report and pages on a JSONL ledger leave Npgsql unloaded' {
        $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.LedgerPath, (Join-Path $sandbox.Root 'report.html') -Script @'
param($module, $ledgerPath, $report)
$ErrorActionPreference = 'Stop'
Import-Module $module
$null = Connect-FlagLedger -Path $ledgerPath 3>$null
$null = Get-FlagAudit -First 2 -Skip 1 -AfterSequence 1
$null = Get-FlagAudit -Newest 2 | Export-FlagAudit -Format Html -Path $report
"npgsql=$(@([System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $_.Assemblies } | Where-Object { $_.GetName().Name -eq 'Npgsql' }).Count)"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match '(?m)^npgsql=0\s*$'
        Test-Path (Join-Path $sandbox.Root 'report.html') | Should -BeTrue
    }

    It '-WhatIf counts the events and writes nothing' {
        $target = Join-Path $sandbox.Root 'export.html'
        $said = Get-FlagAudit | Export-FlagAudit -Format Html -Path $target -WhatIf 6>&1 | Out-String
        Test-Path $target | Should -BeFalse
        @(Get-ChildItem $sandbox.Root -File) | Where-Object Name -Like 'export*' | Should -BeNullOrEmpty
    }
}

Describe 'Export-FlagAudit -Format Jsonl' -Tag AuditPaging, Export {
    BeforeEach { $sandbox = New-FlagSandbox; Add-Changes 6 }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'writes the ledger file''s own bytes, and the export verifies with Test-FlagAuditChain -Path' {
        $export = Join-Path $sandbox.Root 'export.jsonl'
        Get-FlagAudit | Export-FlagAudit -Format Jsonl -Path $export | Out-Null
        [IO.File]::ReadAllBytes($export) | Should -Be ([IO.File]::ReadAllBytes($sandbox.LedgerPath))
        $verdict = Test-FlagAuditChain -Path $export
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.Count | Should -Be 6
    }

    It 'an export from PostgreSQL verifies exactly like the JSONL file it was copied from' {
        $schema = 'jsonl_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $pg = Connect-FlagLedger -ConnectionString $script:db.ConnectionString -Schema $schema -NoDefault
        $null = Copy-FlagAudit -From $sandbox.Ledger -To $pg -Reason 'export test' -Confirm:$false
        $export = Join-Path $sandbox.Root 'from-postgres.jsonl'
        Get-FlagAudit -Ledger $pg | Export-FlagAudit -Format Jsonl -Path $export | Out-Null
        $lines = @([IO.File]::ReadAllLines($export))
        $lines[0..5] | Should -Be @([IO.File]::ReadAllLines($sandbox.LedgerPath))
        $verdict = Test-FlagAuditChain -Path $export
        $verdict.Valid | Should -BeTrue -Because $verdict.Message
        $verdict.HeadHash | Should -Be (Test-FlagAuditChain -Ledger $pg).HeadHash
    }

    It 'keeps a modified event''s stored hash, so the verifier names that sequence' {
        $lines = @([IO.File]::ReadAllLines($sandbox.LedgerPath))
        $lines[2] = $lines[2].Replace('"change 3"', '"change 33"')
        [IO.File]::WriteAllText($sandbox.LedgerPath, (($lines | ForEach-Object { "$_`n" }) -join ''))
        $export = Join-Path $sandbox.Root 'export.jsonl'
        Get-FlagAudit | Export-FlagAudit -Format Jsonl -Path $export | Out-Null
        $verdict = Test-FlagAuditChain -Path $export 3>$null
        $verdict.Valid | Should -BeFalse
        $verdict.FirstBrokenSequence | Should -Be 3
    }
}

Describe 'Export-FlagAudit -Format Html on PostgreSQL' -Tag AuditPaging, AuditReport {
    BeforeEach { $sandbox = New-FlagSandbox -NoConnect; $null = Connect-FlagStore -Path $sandbox.FlagFile }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'states the checkpoint verdict with -PublicKeyPath, as Test-FlagAuditChain does' {
        $schema = 'report_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $ecdsa = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $private = Join-Path $sandbox.Root 'signing.pem'
        $public = Join-Path $sandbox.Root 'signing.pub.pem'
        Set-Content -LiteralPath $private -Value $ecdsa.ExportPkcs8PrivateKeyPem()
        Set-Content -LiteralPath $public -Value $ecdsa.ExportSubjectPublicKeyInfoPem()
        $ecdsa.Dispose()
        $ledger = Connect-FlagLedger -ConnectionString $script:db.ConnectionString -Schema $schema -SigningKeyPath $private
        foreach ($p in 10, 20, 30) { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage $p -Reason "step $p" }
        $report = Join-Path $sandbox.Root 'report.html'

        Get-FlagAudit | Export-FlagAudit -Format Html -Path $report -PublicKeyPath $public | Out-Null

        $verdict = Test-FlagAuditChain -Ledger $ledger -PublicKeyPath $public
        $verdict.CheckpointVerified | Should -BeTrue
        $html = Get-Content -Raw $report
        $html | Should -BeLike '*Chain VALID: 3 event(s) intact.*'
        $html | Should -BeLike "*Last checkpoint seals #3, head $($verdict.SealedHead); signature VERIFIED*"
        $html | Should -Not -BeLike "*$($script:db.Password)*"
    }
}
