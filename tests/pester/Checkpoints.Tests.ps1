#Requires -Version 7.4
# Signed checkpoints, verification on open, Repair-FlagLedger and pending events through the cmdlets, with keys made by
# the real openssl as an operator would make them. Every refusal is checked by ErrorId AND by unchanged files.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment

    function New-KeyPair([string] $Folder, [string] $Name) {
        $private = Join-Path $Folder "$Name.pem"
        $public = Join-Path $Folder "$Name.pub.pem"
        openssl ecparam -name prime256v1 -genkey -noout -out $private 2>$null
        if ($LASTEXITCODE -ne 0) { throw 'openssl could not create a key' }
        openssl ec -in $private -pubout -out $public 2>$null
        if ($LASTEXITCODE -ne 0) { throw 'openssl could not write the public key' }
        [pscustomobject]@{ Private = $private; Public = $public }
    }

    function Add-Change([int] $Count, [int] $From = 1) {
        foreach ($i in $From..($From + $Count - 1)) {
            $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage $i -Reason "change $i"
        }
    }

    function Get-Lines([string] $Path) { @([IO.File]::ReadAllText($Path).Split("`n") | Where-Object { $_ }) }

    function Set-Lines([string] $Path, [string[]] $Lines) { [IO.File]::WriteAllText($Path, (($Lines | ForEach-Object { "$_`n" }) -join '')) }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Signed checkpoints' -Tag Checkpoints {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $key = New-KeyPair $sandbox.Root 'signing'
        $checkpoints = "$($sandbox.LedgerPath).checkpoints.jsonl"
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'seals every change when connected with a signing key, and a valid ledger verifies with CheckpointVerified' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 3

        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public

        $verdict.Valid | Should -BeTrue
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.Count | Should -Be 3
        $verdict.SealedSequence | Should -Be 3
        $verdict.SealedHead | Should -Be $verdict.HeadHash
        $verdict.UnsealedCount | Should -Be 0
        @(Get-Lines $checkpoints).Count | Should -Be 3
        (Get-Lines $checkpoints)[-1] | Should -Not -Match ([regex]::Escape((Get-Content -Raw $key.Private).Split("`n")[1]))
    }

    It 'reports a ledger cut short as truncated' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 5
        Set-Lines $sandbox.LedgerPath (Get-Lines $sandbox.LedgerPath)[0..2]

        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public 3>$null

        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'truncated'
        $verdict.FirstBrokenSequence | Should -Be 4
    }

    It 'reports a rollback to an earlier head as rolled_back when the kept head is given' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 2
        $ledgerBefore = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        $checkpointsBefore = [IO.File]::ReadAllBytes($checkpoints)
        Add-Change 2 -From 3
        $kept = (Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public).SealedHead
        [IO.File]::WriteAllBytes($sandbox.LedgerPath, $ledgerBefore)
        [IO.File]::WriteAllBytes($checkpoints, $checkpointsBefore)

        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public -ExpectedHead $kept 3>$null

        $verdict.Valid | Should -BeFalse
        $verdict.Problem | Should -Be 'rolled_back'
    }

    It 'reports a deleted checkpoint file as checkpoint_missing, and a forged checkpoint as signature_invalid' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 2
        $forger = New-KeyPair $sandbox.Root 'forger'
        $lines = Get-Lines $checkpoints
        Remove-Item $checkpoints

        (Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public 3>$null).Problem | Should -Be 'checkpoint_missing'

        $last = $lines[-1] | ConvertFrom-Json
        $last.signature = [Convert]::ToBase64String([byte[]]::new(64))
        Set-Lines $checkpoints ($lines[0], ($last | ConvertTo-Json -Compress))
        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public, $forger.Public 3>$null
        $verdict.Problem | Should -Be 'signature_invalid'
        $verdict.FirstBrokenSequence | Should -Be 2
    }

    It 'accepts a key rotation when both public keys are given' {
        $next = New-KeyPair $sandbox.Root 'next'
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 2
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $next.Private 3>$null
        Add-Change 2 -From 3

        $verdict = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public, $next.Public

        $verdict.Valid | Should -BeTrue
        $verdict.CheckpointVerified | Should -BeTrue
        $verdict.SealedSequence | Should -Be 4
    }

    It 'prints the sealed head as a notice under GitHub Actions' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 1
        $env:GITHUB_ACTIONS = 'true'
        try { $output = Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public 6>&1 }
        finally { $env:GITHUB_ACTIONS = $null }
        $verdict = $output | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] }
        "$($output | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })" | Should -Be "::notice title=PMS.Flags sealed ledger head::#1 $($verdict.SealedHead)"
    }

    It 'seals on demand with New-FlagAuditCheckpoint, records the event, and -WhatIf changes nothing' {
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath 3>$null
        Add-Change 2
        $before = Get-FileSnapshot $sandbox.LedgerPath, $checkpoints

        New-FlagAuditCheckpoint -SigningKeyPath $key.Private -WhatIf
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
        { New-FlagAuditCheckpoint } | Should -Throw -ErrorId 'CheckpointKeyRequired,PMS.Flags.Cmdlets.Commands.NewFlagAuditCheckpointCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before

        $checkpoint = New-FlagAuditCheckpoint -SigningKeyPath $key.Private -Reason 'end of day'

        $checkpoint.Sequence | Should -Be 3
        (Get-FlagAudit -Newest 1).EventType | Should -Be 'ledger_checkpoint_sealed'
        (Get-FlagAudit -Newest 1).Hash | Should -Be $checkpoint.HeadHash
        (Test-FlagAuditChain -PublicKeyPath $key.Public).CheckpointVerified | Should -BeTrue
    }
}

Describe 'Bad checkpoint inputs' -Tag Checkpoints {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $key = New-KeyPair $sandbox.Root 'signing'
        $checkpoints = "$($sandbox.LedgerPath).checkpoints.jsonl"
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        Add-Change 2
        $before = Get-FileSnapshot $sandbox.LedgerPath, $checkpoints
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'refuses a missing key file with CheckpointKeyNotFound and changes nothing' {
        { Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath (Join-Path $sandbox.Root 'nope.pem') } | Should -Throw -ErrorId 'CheckpointKeyNotFound,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        { Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath (Join-Path $sandbox.Root 'nope.pub.pem') } | Should -Throw -ErrorId 'CheckpointKeyNotFound,PMS.Flags.Cmdlets.Commands.TestFlagAuditChainCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
    }

    It 'refuses a malformed key file, and a public key where a private one is needed, with CheckpointKeyMalformed' {
        $garbage = Join-Path $sandbox.Root 'garbage.pem'
        Set-Content $garbage "-----BEGIN EC PRIVATE KEY-----`nbm90IGEga2V5`n-----END EC PRIVATE KEY-----"
        { Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $garbage } | Should -Throw -ErrorId 'CheckpointKeyMalformed,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        { Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Public } | Should -Throw -ErrorId 'CheckpointKeyMalformed,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
    }

    It 'refuses a public key that signed none of the checkpoints with CheckpointKeyMismatch' {
        $other = New-KeyPair $sandbox.Root 'other'
        { Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $other.Public } | Should -Throw -ErrorId 'CheckpointKeyMismatch,PMS.Flags.Cmdlets.Commands.TestFlagAuditChainCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
    }

    It 'refuses a checkpoint file that is not JSONL with CheckpointFileMalformed, at connect and when verifying' {
        Add-Content -LiteralPath $checkpoints -Value 'sequence;head_hash'
        $garbled = Get-FileSnapshot $sandbox.LedgerPath, $checkpoints
        { Connect-FlagLedger -Path $sandbox.LedgerPath } | Should -Throw -ErrorId 'CheckpointFileMalformed,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        { Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public } | Should -Throw -ErrorId 'CheckpointFileMalformed,PMS.Flags.Cmdlets.Commands.TestFlagAuditChainCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $garbled
    }
}

Describe 'Verification on open' -Tag Checkpoints {
    BeforeEach {
        $sandbox = New-FlagSandbox -SeedLedger
        Add-Change 3
        $checkpoints = "$($sandbox.LedgerPath).checkpoints.jsonl"
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'refuses a tampered ledger with LedgerTampered naming the sequence, changes nothing, and -SkipVerification is recorded' {
        $lines = Get-Lines $sandbox.LedgerPath
        $lines[2] = $lines[2].Replace('change 2', 'nothing happened')
        Set-Lines $sandbox.LedgerPath $lines
        $before = Get-FileSnapshot $sandbox.LedgerPath, $checkpoints

        $failure = { Connect-FlagLedger -Path $sandbox.LedgerPath } | Should -Throw -ErrorId 'LedgerTampered,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand' -PassThru
        $failure.Exception.Message | Should -BeLike '*#3*'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
        { Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 9 -Reason 'after a failed connect' } | Should -Throw -ErrorId 'LedgerNotConnected,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before

        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SkipVerification -WarningVariable warned 3>$null
        "$warned" | Should -BeLike '*modified*'
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 9 -Reason 'on top'
        $details = (Get-Lines $sandbox.LedgerPath)[-1] | ConvertFrom-Json
        $details.details.verification_skipped | Should -BeLike 'modified at #3*'
    }

    It 'refuses a tampered default ledger on its first use in a session' {
        $lines = Get-Lines $sandbox.LedgerPath
        $lines[1] = $lines[1].Replace('change 1', 'edited')
        Set-Lines $sandbox.LedgerPath $lines
        $env:PMS_FLAGS_LEDGER = $sandbox.LedgerPath
        $before = Get-FileSnapshot $sandbox.LedgerPath

        $run = Invoke-InFreshRunspace -Location $sandbox.Root -Script 'Get-FlagAudit -ErrorAction SilentlyContinue; $Error[0].FullyQualifiedErrorId'

        $run.Output | Should -Be @('LedgerTampered,PMS.Flags.Cmdlets.Commands.GetFlagAuditCommand')
        Get-FileSnapshot $sandbox.LedgerPath | Should -Be $before
    }

    It 'refuses a torn ledger with LedgerTornTail; Repair-FlagLedger -WhatIf changes nothing; the repair keeps every complete event' {
        $complete = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        [IO.File]::AppendAllText($sandbox.LedgerPath, '{"timestamp":"2025-03-01T10:')
        $before = Get-FileSnapshot $sandbox.LedgerPath, $checkpoints
        (Test-FlagAuditChain -Path $sandbox.LedgerPath 3>$null).Problem | Should -Be 'torn_tail'

        { Connect-FlagLedger -Path $sandbox.LedgerPath } | Should -Throw -ErrorId 'LedgerTornTail,PMS.Flags.Cmdlets.Commands.ConnectFlagLedgerCommand'
        Repair-FlagLedger -Path $sandbox.LedgerPath -WhatIf
        Get-FileSnapshot $sandbox.LedgerPath, $checkpoints | Should -Be $before
        @(Get-ChildItem (Split-Path $sandbox.LedgerPath) -Filter '*.quarantine').Count | Should -Be 0

        $repair = Repair-FlagLedger -Path $sandbox.LedgerPath -Reason 'power loss' 3>$null

        $bytes = [IO.File]::ReadAllBytes($sandbox.LedgerPath)
        [Convert]::ToHexString($bytes[0..($complete.Length - 1)]) | Should -Be ([Convert]::ToHexString($complete))
        Get-Content -Raw $repair.QuarantinePath | Should -Be '{"timestamp":"2025-03-01T10:'
        $repair.Sequence | Should -Be 5
        $event = (Get-Lines $sandbox.LedgerPath)[-1] | ConvertFrom-Json
        $event.event_type | Should -Be 'ledger_repaired'
        $event.details.quarantined_sha256 | Should -Be $repair.QuarantinedSha256
        (Test-FlagAuditChain -Path $sandbox.LedgerPath).Valid | Should -BeTrue
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath
    }

    It 'refuses to repair a ledger that is not torn with LedgerNotTorn and changes nothing' {
        $before = Get-FileSnapshot $sandbox.LedgerPath
        { Repair-FlagLedger -Path $sandbox.LedgerPath } | Should -Throw -ErrorId 'LedgerNotTorn,PMS.Flags.Cmdlets.Commands.RepairFlagLedgerCommand'
        $lines = Get-Lines $sandbox.LedgerPath
        $lines[1] = $lines[1].Replace('change 1', 'edited')
        [IO.File]::WriteAllText($sandbox.LedgerPath, ($lines -join "`n"))  # modified, and no final newline
        $broken = Get-FileSnapshot $sandbox.LedgerPath
        { Repair-FlagLedger -Path $sandbox.LedgerPath } | Should -Throw -ErrorId 'LedgerNotTorn,PMS.Flags.Cmdlets.Commands.RepairFlagLedgerCommand'
        Get-FileSnapshot $sandbox.LedgerPath | Should -Be $broken
        @(Get-ChildItem (Split-Path $sandbox.LedgerPath) -Filter '*.quarantine').Count | Should -Be 0
        $before | Should -Not -Be $broken
    }
}

Describe 'Pending events and files' -Tag Checkpoints {
    BeforeEach { $sandbox = New-FlagSandbox -SeedLedger }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'shows spooled events as pending, counts them in Test-FlagAuditChain, and Sync-FlagLedger writes them' {
        $unwritable = New-UnwritableLedger $sandbox
        $null = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'ledger down' -Ledger $unwritable.Ledger -Force 3>$null
        @(Get-SpoolFile $sandbox).Count | Should -Be 1

        $pending = @(Get-FlagAudit -Ledger $unwritable.Ledger -IncludePending)
        $pending.Count | Should -Be 1
        $pending[0].Pending | Should -BeTrue
        $pending[0].Reason | Should -Be 'ledger down'
        @(Get-FlagAudit -Ledger $unwritable.Ledger).Count | Should -Be 0
        (Test-FlagAuditChain -Ledger $unwritable.Ledger 3>$null).Pending | Should -Be 1
        { Sync-FlagLedger -Ledger $unwritable.Ledger } | Should -Throw -ErrorId 'LedgerUnwritable,PMS.Flags.Cmdlets.Commands.SyncFlagLedgerCommand'
        @(Get-SpoolFile $sandbox).Count | Should -Be 1

        Remove-Item $unwritable.Blocker
        $null = New-Item -ItemType Directory $unwritable.Blocker
        Sync-FlagLedger -Ledger $unwritable.Ledger -WhatIf
        @(Get-SpoolFile $sandbox).Count | Should -Be 1
        $written = @(Sync-FlagLedger -Ledger $unwritable.Ledger)

        $written.Count | Should -Be 1
        $written[0].Sequence | Should -Be 1
        $written[0].Pending | Should -BeFalse
        @(Get-SpoolFile $sandbox).Count | Should -Be 0
        (Test-FlagAuditChain -Ledger $unwritable.Ledger).Pending | Should -Be 0
    }

    It 'creates the ledger, spool and checkpoint files 0600 and the state folders 0700' -Skip:$IsWindows {
        $key = New-KeyPair $sandbox.Root 'signing'
        $path = Join-Path $sandbox.Root 'audit/private.jsonl'
        $null = Connect-FlagLedger -Path $path -SigningKeyPath $key.Private 3>$null
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 3 -Reason 'mode check'
        $unwritable = New-UnwritableLedger $sandbox
        $null = Disable-Flag -Flag new_scheduler -Environment staging -Reason 'spooled' -Ledger $unwritable.Ledger -Force 3>$null

        $private = [System.IO.UnixFileMode]'UserRead, UserWrite'
        (Get-Item $path).UnixFileMode | Should -Be $private
        (Get-Item "$path.checkpoints.jsonl").UnixFileMode | Should -Be $private
        (Get-SpoolFile $sandbox)[0].UnixFileMode | Should -Be $private
        (Get-Item $sandbox.SpoolDir).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    }

    It 'neutralizes CSV cells that a spreadsheet would run as a formula, and keeps JSON exact' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 7 -Reason '=HYPERLINK("http://evil.example","x")'
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 8 -Reason '@SUM(1)'
        $csv = Join-Path $sandbox.Root 'audit.csv'
        $json = Join-Path $sandbox.Root 'audit.json'
        Get-FlagAudit | Export-FlagAudit -Format Csv -Path $csv
        Get-FlagAudit | Export-FlagAudit -Format Json -Path $json

        $rows = @(Import-Csv $csv)
        $rows[1].reason | Should -Be '''=HYPERLINK("http://evil.example","x")'
        $rows[2].reason | Should -Be '''@SUM(1)'
        $rows[0].reason | Should -Be 'seed event'
        $rows[1].rollout_percentage | Should -Be '7'
        (Get-Content -Raw $json | ConvertFrom-Json)[1].reason | Should -Be '=HYPERLINK("http://evil.example","x")'
    }
}

# The HTML report is opened in Debian's headless Chromium (build/bootstrap/40-openssl-chromium.sh), as an auditor's
# browser would: the rendered DOM must state the verdict, and in the screenshot every plotted point must sit where its
# event puts it (x by time, y by exposure), measured from the first point.
Describe 'HTML audit report' -Tag Checkpoints, AuditReport {
    BeforeAll {
        $script:Chromium = (Get-Command chromium-headless-shell -ErrorAction SilentlyContinue).Source
        if (-not $script:Chromium) { throw 'chromium-headless-shell is not installed: run ./build.ps1 Bootstrap' }
        if (-not ('PngPixels' -as [type])) {
            Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.IO.Compression;
/// <summary>Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into RGB triples.</summary>
public static class PngPixels
{
    public static int[] Read(string path, out int width, out int height)
    {
        var bytes = File.ReadAllBytes(path);
        var idat = new MemoryStream();
        width = height = 0;
        int channels = 0;
        for (var at = 8; at < bytes.Length;)
        {
            var length = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            if (type == "IHDR")
            {
                width = (bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11];
                height = (bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15];
                if (bytes[at + 16] != 8 || bytes[at + 20] != 0) throw new NotSupportedException("not 8-bit non-interlaced");
                channels = bytes[at + 17] == 6 ? 4 : bytes[at + 17] == 2 ? 3 : throw new NotSupportedException("colour type " + bytes[at + 17]);
            }
            else if (type == "IDAT") idat.Write(bytes, at + 8, length);
            at += 12 + length;
        }
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var data = raw.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var rgb = new int[width * height];
        for (var y = 0; y < height; y++)
        {
            var filter = data[y * (stride + 1)];
            Array.Copy(data, y * (stride + 1) + 1, current, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= channels ? current[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                var predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, 4 => pa <= pb && pa <= pc ? a : pb <= pc ? b : c, _ => throw new NotSupportedException("filter") };
                current[i] = (byte)(current[i] + predictor);
            }
            for (var x = 0; x < width; x++) rgb[y * width + x] = (current[x * channels] << 16) | (current[x * channels + 1] << 8) | current[x * channels + 2];
            (previous, current) = (current, previous);
        }
        return rgb;
    }

    public static int[] IndexesOf(int[] pixels, int color)
    {
        var found = new System.Collections.Generic.List<int>();
        for (var i = 0; i < pixels.Length; i++) if (pixels[i] == color) found.Add(i);
        return found.ToArray();
    }
}
'@
        }

        function ConvertFrom-HexColor([string] $Hex) { [Convert]::ToInt32($Hex.TrimStart('#'), 16) }
    }

    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $null = Connect-FlagStore -Path $sandbox.FlagFile
        $key = New-KeyPair $sandbox.Root 'signing'
        $null = Connect-FlagLedger -Path $sandbox.LedgerPath -SigningKeyPath $key.Private 3>$null
        foreach ($step in @(@{ P = 5 }, @{ P = 25 }, @{ P = 50; Ticket = 'CHG-50' }, @{ P = 75 })) {
            $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage $step.P -Reason "stage $($step.P) <b>" -ApprovalTicket $step.Ticket
            Start-Sleep -Milliseconds 400
        }
        $null = Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'error rate =HYPERLINK("x")' -Force 3>$null
        $report = Join-Path $sandbox.Root 'report.html'
        Get-FlagAudit | Export-FlagAudit -Format Html -Path $report -PublicKeyPath $key.Public
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'is one self-contained file: no script and no external resource, and text is escaped' {
        $html = Get-Content -Raw $report
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '\s(src|href)\s*='
        $html | Should -Not -Match '@import|url\('
        $html | Should -Match ([regex]::Escape('stage 5 &lt;b&gt;'))
    }

    It 'renders in headless Chromium with the verdict and the sealed head' {
        $dom = & $script:Chromium --no-sandbox --disable-gpu --dump-dom "file://$report" 2>$null | Out-String
        $verdict = (Test-FlagAuditChain -Path $sandbox.LedgerPath -PublicKeyPath $key.Public)

        $dom | Should -BeLike '*Chain VALID: 6 event(s) intact.*'
        $dom | Should -BeLike "*Last checkpoint seals #6, head $($verdict.SealedHead); signature VERIFIED*"
        $dom | Should -BeLike '*new_scheduler in staging*'
    }

    It 'draws each event''s point where its time and exposure put it' {
        $shot = Join-Path $sandbox.Root 'report.png'
        $null = & $script:Chromium --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 --window-size=900,1400 "--screenshot=$shot" "file://$report" 2>&1
        $shot | Should -Exist
        $width = 0; $height = 0
        $pixels = [PngPixels]::Read($shot, [ref] $width, [ref] $height)

        # Expected geometry, from the events: x by time over the plotted span, y by exposure after each event.
        $events = @(Get-FlagAudit)
        $t0 = $events[0].Timestamp; $span = ($events[-1].Timestamp - $t0).TotalSeconds
        $exposure = 0
        $expected = foreach ($e in $events) {
            $exposure = if ($null -ne $e.RolloutPercentage) { $e.RolloutPercentage } elseif ($e.NewState -eq $false) { 0 } else { $exposure }
            $color = switch ($e.EventType) { 'emergency_rollback' { '#c00000' } default { if ($e.ApprovalTicket) { '#2e8b57' } else { '#1f5fbf' } } }
            [pscustomobject]@{ X = 60 + 640 * ($e.Timestamp - $t0).TotalSeconds / $span; Y = 20 + (100 - $exposure) * 2; Color = ConvertFrom-HexColor $color; Sequence = $e.Sequence }
        }

        # The first point (blue) anchors the plot: the centroid of the leftmost blob of its exact colour.
        $blue = ConvertFrom-HexColor '#1f5fbf'
        $bluePixels = @([PngPixels]::IndexesOf($pixels, $blue) | ForEach-Object { , @(($_ % $width), [math]::Floor($_ / $width)) })
        $bluePixels.Count | Should -BeGreaterThan 20
        $minX = ($bluePixels | ForEach-Object { $_[0] } | Measure-Object -Minimum).Minimum
        $anchor = @($bluePixels | Where-Object { $_[0] -le $minX + 10 })
        $anchorX = ($anchor | ForEach-Object { $_[0] } | Measure-Object -Average).Average
        $anchorY = ($anchor | ForEach-Object { $_[1] } | Measure-Object -Average).Average

        # A later point drawn at (nearly) the same place covers the earlier one: each place shows the last event's colour.
        $places = for ($i = 0; $i -lt $expected.Count; $i++) {
            $covered = $false
            for ($j = $i + 1; $j -lt $expected.Count; $j++) { if ([math]::Abs($expected[$j].X - $expected[$i].X) -lt 8 -and [math]::Abs($expected[$j].Y - $expected[$i].Y) -lt 8) { $covered = $true } }
            if (-not $covered) { $expected[$i] }
        }
        @($places).Count | Should -BeGreaterOrEqual 5
        foreach ($point in $places) {
            $x = [int][math]::Round($anchorX + $point.X - $expected[0].X)
            $y = [int][math]::Round($anchorY + $point.Y - $expected[0].Y)
            '{0:x6}' -f $pixels[$y * $width + $x] | Should -Be ('{0:x6}' -f $point.Color) -Because "event #$($point.Sequence) is drawn at ($x, $y)"
        }

        # And nothing is drawn where no event is: the plot's middle at 100% exposure is background.
        $emptyY = [int][math]::Round($anchorY - $expected[0].Y + 20 + 2)
        '{0:x6}' -f $pixels[$emptyY * $width + [int]$anchorX + 320] | Should -Not -BeIn @($places | ForEach-Object { '{0:x6}' -f $_.Color })
    }
}
