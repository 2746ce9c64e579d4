# The LaunchDarkly store through the BUILT module, against the LaunchDarkly stand-in (tests/PMS.Flags.TestServers),
# which validates and refuses like the real service and records every request it receives.
BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module $env:PMS_FLAGS_MODULE -Force
    $script:Token = 'api-PMS-SECRET-7f3a9c1e-do-not-print'
    $script:SecureToken = ConvertTo-SecureString $script:Token -AsPlainText -Force

    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in $env:PMS_FLAGS_TESTSERVERS, 'launchdarkly', '--token', $script:Token) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $script:StandIn = [System.Diagnostics.Process]::Start($psi)
    if ($script:StandIn.StandardOutput.ReadLine() -notmatch '^LISTENING (http://127\.0\.0\.1:\d+)$') { throw 'The LaunchDarkly stand-in did not start.' }
    $script:BaseUri = $Matches[1]

    function script:Get-Requests { @((Invoke-RestMethod "$script:BaseUri/_control/requests").items) }
    function script:Get-StandInAudit { @((Invoke-RestMethod "$script:BaseUri/_control/audit").items) }
    function script:Get-StoredFlag([string] $Key) { Invoke-RestMethod "$script:BaseUri/_control/flags/pms/$Key" }
    function script:Add-Fault([hashtable] $Spec) { $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/faults" -ContentType 'application/json' -Body ($Spec | ConvertTo-Json) }
    # Every flag of the seed, so a test sees a change to ANY flag, not only to the one it targeted.
    $script:SeedFlagKeys = @((Get-Content -Raw (Join-Path $env:PMS_FLAGS_REPO 'tests/PMS.Flags.TestServers/LaunchDarkly/default-seed.json') | ConvertFrom-Json).projects[0].flags.key)
    function script:Get-Snapshot([string] $Key = 'new-billing') {
        [pscustomobject]@{
            Flag   = if ($Key -in $script:SeedFlagKeys) { Get-StoredFlag $Key | ConvertTo-Json -Depth 20 } else { '' }
            Flags  = ($script:SeedFlagKeys | ForEach-Object { Get-StoredFlag $_ } | ConvertTo-Json -Depth 20)
            Audit  = @(Get-StandInAudit).Count
            Ledger = if (Test-Path $script:LedgerPath) { (Get-FileHash $script:LedgerPath).Hash } else { '' }
        }
    }
    function script:Connect-StandIn([string] $Environment = 'staging', [int] $TimeoutSec = 30) {
        Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $script:SecureToken -BaseUri $script:BaseUri -Environment $Environment -TimeoutSec $TimeoutSec
    }
}

AfterAll {
    try { $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/shutdown" } catch { }
    if ($script:StandIn -and -not $script:StandIn.WaitForExit(10000)) { $script:StandIn.Kill() }
}

Describe 'LaunchDarkly store' -Tag LaunchDarkly {
    BeforeEach {
        $null = Invoke-RestMethod -Method Post "$script:BaseUri/_control/reset"
        $script:Work = Join-Path ([IO.Path]::GetTempPath()) ("pms-ld-" + [guid]::NewGuid())
        $null = New-Item -ItemType Directory $script:Work
        $env:PMS_FLAGS_STATE_DIR = Join-Path $script:Work 'state'
        $script:LedgerPath = Join-Path $script:Work 'audit.jsonl'
        Connect-FlagLedger -Path $script:LedgerPath | Out-Null
        $script:Store = Connect-StandIn
        $null = Invoke-RestMethod -Method Delete "$script:BaseUri/_control/requests"
    }
    AfterEach { Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue }

    It 'reads On, Percentage, Version, LastModified and what serves the percentage' {
        $flag = Get-Flag -Flag patient-portal-v2 -Environment staging
        $flag.On | Should -BeTrue
        $flag.Percentage | Should -Be 50
        $flag.Version | Should -Not -BeNullOrEmpty
        $flag.LastModified | Should -BeOfType [DateTimeOffset]
        $flag.ServedBy | Should -Be 'fallthrough'
        (Get-Requests | Where-Object method -EQ 'GET').Count | Should -BeGreaterThan 0
        Get-Requests | ForEach-Object { $_.headers.'LD-API-Version' } | Sort-Object -Unique | Should -Be '20240415'
    }

    It 'sends ONE semantic patch with every variation weight summing to 100000 and the reason and ticket as comment' {
        $result = Set-FlagPercentage -Flag new-billing -Environment production -Percentage 35 -Reason 'Gradual rollout - Phase 2' -ApprovalTicket 'TICKET-12345'
        $result.Percentage | Should -Be 35
        $result.On | Should -BeTrue
        $patches = @(Get-Requests | Where-Object method -EQ 'PATCH')
        $patches.Count | Should -Be 1
        $body = $patches[0].body | ConvertFrom-Json
        $body.environmentKey | Should -Be 'production'
        $body.comment | Should -BeLike '*TICKET-12345*'
        $body.comment | Should -BeLike '*Gradual rollout - Phase 2*'
        $body.instructions.kind | Should -Be @('turnFlagOn', 'updateFallthroughVariationOrRollout')
        $weights = $body.instructions[1].rolloutWeights.PSObject.Properties.Value
        $weights.Count | Should -Be 2
        ($weights | Measure-Object -Sum).Sum | Should -Be 100000
        $weights | Should -Contain 35000
        $patches[0].headers.'Content-Type' | Should -BeLike '*domain-model=launchdarkly.semanticpatch*'
        (Get-StandInAudit)[-1].comment | Should -BeLike '*TICKET-12345*'
        $event = Get-FlagAudit -Flag new-billing | Select-Object -Last 1
        $event.EventType | Should -Be 'feature_flag_toggled'
        $event.RolloutPercentage | Should -Be 35
        $event.Store | Should -Be 'launchdarkly:pms'
    }

    It 'sends 0% and 100% as a single variation' {
        $null = Set-FlagPercentage -Flag patient-portal-v2 -Percentage 100 -Reason 'full'
        $null = Set-FlagPercentage -Flag patient-portal-v2 -Percentage 0 -Reason 'none'
        $bodies = Get-Requests | Where-Object method -EQ 'PATCH' | ForEach-Object { $_.body | ConvertFrom-Json }
        $bodies.Count | Should -Be 2
        foreach ($b in $bodies) {
            $b.instructions[1].variationId | Should -Not -BeNullOrEmpty
            $b.instructions[1].PSObject.Properties.Name | Should -Not -Contain 'rolloutWeights'
        }
        (Get-Flag -Flag patient-portal-v2).Percentage | Should -Be 0
    }

    It 'switches off with exactly one request and nothing before it (emergency rollback)' {
        $rollback = Invoke-EmergencyRollback -Flag new-billing -Environment production -Reason 'errors above 5%' -Force
        $requests = @(Get-Requests)
        $requests[0].method | Should -Be 'PATCH'
        ($requests[0].body | ConvertFrom-Json).instructions.kind | Should -Be @('turnFlagOff')
        @($requests | Where-Object method -EQ 'PATCH').Count | Should -Be 1
        $rollback.FlagOffAt | Should -BeGreaterOrEqual $rollback.StartedAt
        $rollback.Verified | Should -BeTrue
        $rollback.WithinSla | Should -Be ($rollback.Duration -le [TimeSpan]::FromMinutes(5)) -Because 'a verified flag-off inside five minutes; the speed is a figure in tests/bench'
        (Get-StoredFlag new-billing).environments.production.on | Should -BeFalse
    }

    It 'Disable-Flag sends turnFlagOff only' {
        $null = Disable-Flag -Flag patient-portal-v2 -Reason 'pause' -Force
        $patch = @(Get-Requests | Where-Object method -EQ 'PATCH')
        $patch.Count | Should -Be 1
        ($patch[0].body | ConvertFrom-Json).instructions.kind | Should -Be @('turnFlagOff')
    }

    It '-WhatIf is validated by the service with dryRun and changes nothing' {
        $before = Get-Snapshot
        $out = Set-FlagPercentage -Flag new-billing -Environment production -Percentage 40 -Reason 'preview' -ApprovalTicket T-1 -WhatIf
        $out | Should -BeNullOrEmpty
        $patches = @(Get-Requests | Where-Object method -EQ 'PATCH')
        $patches.Count | Should -Be 1
        $patches[0].query | Should -BeLike '*dryRun=true*'
        $after = Get-Snapshot
        $after.Flag | Should -Be $before.Flag
        $after.Audit | Should -Be $before.Audit
        $after.Ledger | Should -Be $before.Ledger
    }

    It 'refuses the playbook''s one-weight JSON Patch (the stand-in is honest)' {
        $body = '{"patch":[{"op":"replace","path":"/environments/staging/fallthrough/rollout/variations/0/weight","value":5000}]}'
        $response = Invoke-WebRequest -Method Patch "$script:BaseUri/api/v2/flags/pms/patient-portal-v2" -Headers @{ Authorization = $script:Token; 'LD-API-Version' = '20240415' } -ContentType 'application/json' -Body $body -SkipHttpErrorCheck
        $response.StatusCode | Should -Be 400
        ($response.Content | ConvertFrom-Json).code | Should -Be 'invalid_request'
        @(Get-StandInAudit).Count | Should -Be 0
    }

    It 'honours X-Ratelimit-Reset: waits at least as long as told, then succeeds' {
        Add-Fault @{ kind = '429-reset'; count = 1; resetMs = 1200; method = 'PATCH' }
        $result = Set-FlagPercentage -Flag patient-portal-v2 -Percentage 30 -Reason 'rate limited'
        $result.Percentage | Should -Be 30
        $patches = @(Get-Requests | Where-Object method -EQ 'PATCH')
        $patches.Count | Should -Be 2
        @($patches | Where-Object early).Count | Should -Be 0
        # The stand-in's own clock, not the test's: the retry came no earlier than the reset it was told.
        ([DateTimeOffset]$patches[1].time - [DateTimeOffset]$patches[0].time).TotalMilliseconds | Should -BeGreaterOrEqual 1199 -Because 'told 1200 ms, in a header of millisecond precision'
    }

    It 'honours Retry-After: waits at least as long as told, then succeeds' {
        Add-Fault @{ kind = '429-retry-after'; count = 1; retryAfterSeconds = 1; method = 'PATCH' }
        $result = Set-FlagPercentage -Flag patient-portal-v2 -Percentage 35 -Reason 'rate limited'
        $result.Percentage | Should -Be 35
        @(Get-Requests | Where-Object early).Count | Should -Be 0
        $patches = @(Get-Requests | Where-Object method -EQ 'PATCH')
        $patches.Count | Should -Be 2
        ([DateTimeOffset]$patches[1].time - [DateTimeOffset]$patches[0].time).TotalMilliseconds | Should -BeGreaterOrEqual 1000
    }

    It 'fails with a clear error when the budget runs out, and the ledger shows no change' {
        $null = Connect-StandIn -TimeoutSec 2
        Add-Fault @{ kind = '429-retry-after'; count = 20; retryAfterSeconds = 5; method = 'PATCH' }
        $before = Get-Snapshot patient-portal-v2
        { Set-FlagPercentage -Flag patient-portal-v2 -Percentage 60 -Reason 'budget' } |
            Should -Throw -ErrorId 'LaunchDarklyBudgetExhausted,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $after = Get-Snapshot patient-portal-v2
        $after.Flag | Should -Be $before.Flag
        $after.Ledger | Should -Be $before.Ledger
    }

    It 'retries 5xx and applies the change once' {
        Add-Fault @{ kind = '503'; count = 2; method = 'PATCH' }
        $result = Set-FlagPercentage -Flag patient-portal-v2 -Percentage 45 -Reason 'flaky service'
        $result.Percentage | Should -Be 45
        @(Get-Requests | Where-Object method -EQ 'PATCH').Count | Should -Be 3
        @(Get-StandInAudit).Count | Should -Be 1
        @(Get-FlagAudit -Flag patient-portal-v2).Count | Should -Be 1
    }

    It 'asks for an approval request when the environment requires approvals, without retrying' {
        $before = Get-Snapshot
        { Set-FlagPercentage -Flag new-billing -Environment approvals -Percentage 10 -Reason 'needs approval' } |
            Should -Throw -ErrorId 'ApprovalRequired,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        @(Get-Requests | Where-Object method -EQ 'PATCH').Count | Should -Be 1
        (Get-Snapshot).Flag | Should -Be $before.Flag
        (Get-Snapshot).Ledger | Should -Be $before.Ledger
    }

    It 'takes the key from LD_API_KEY when -ApiKey is not given' {
        $env:LD_API_KEY = $script:Token
        try {
            $store = Connect-FlagStore -LaunchDarkly -ProjectKey pms -BaseUri $script:BaseUri -Environment staging
            $store.Kind | Should -Be 'LaunchDarkly'
        }
        finally { Remove-Item Env:LD_API_KEY }
    }

    It 'completes -Flag with the project''s flags' {
        $line = 'Set-FlagPercentage -Flag pat'
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Contain 'patient-portal-v2'
    }

    It 'a base URI with user info is refused (InvalidBaseUri) before anything is printed; its password shows nowhere' {
        $withUserInfo = $script:BaseUri -replace '^http://', 'http://ops:hunter2-pw@'
        $output = & {
            try { Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $script:SecureToken -BaseUri $withUserInfo -Verbose -NoDefault } catch { $_.FullyQualifiedErrorId; $_ | Format-List * -Force | Out-String; $_.Exception.ToString() }
        } *>&1 | Out-String
        $output | Should -Match 'InvalidBaseUri'
        $output | Should -Not -Match 'hunter2'
        $output | Should -Not -Match 'Connecting to LaunchDarkly'
    }

    It 'never shows the key: not in any stream, error, ledger event, object or ToString' {
        $output = & {
            # -Debug on a compiled cmdlet asks before every debug line; Continue captures the same stream unattended.
            $DebugPreference = 'Continue'
            Connect-StandIn -Environment staging | Format-List * | Out-String
            Get-Flag -Verbose
            Set-FlagPercentage -Flag patient-portal-v2 -Percentage 20 -Reason 'secrets' -Verbose
            Invoke-EmergencyRollback -Flag patient-portal-v2 -Reason 'secrets' -Force -Verbose | Format-List * | Out-String
            try { Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey (ConvertTo-SecureString 'api-WRONG-secret-42' -AsPlainText -Force) -BaseUri $script:BaseUri -Verbose } catch { $_ | Format-List * -Force | Out-String; $_.Exception.ToString() }
        } *>&1 | Out-String
        $output | Should -Not -BeNullOrEmpty
        $output | Should -Not -BeLike "*$script:Token*"
        $output | Should -Not -BeLike '*api-WRONG-secret-42*'
        Get-Content -Raw $script:LedgerPath | Should -Not -BeLike "*$script:Token*"
        $script:Store.ToString() | Should -Not -BeLike "*$script:Token*"
        ($script:Store | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue) | Should -Not -BeLike "*$script:Token*"
    }

    Context 'bad inputs: a stable ErrorId and nothing changed' {
        It 'wrong key -> LaunchDarklyUnauthorized' {
            $before = Get-Snapshot
            { Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey (ConvertTo-SecureString 'api-wrong' -AsPlainText -Force) -BaseUri $script:BaseUri } |
                Should -Throw -ErrorId 'LaunchDarklyUnauthorized,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            $after = Get-Snapshot
            $after.Flags | Should -Be $before.Flags
            $after.Audit | Should -Be $before.Audit
            $after.Ledger | Should -Be $before.Ledger
        }
        It 'unknown project -> ProjectNotFound' {
            $before = Get-Snapshot
            { Connect-FlagStore -LaunchDarkly -ProjectKey nope -ApiKey $script:SecureToken -BaseUri $script:BaseUri } |
                Should -Throw -ErrorId 'ProjectNotFound,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            $after = Get-Snapshot
            $after.Flags | Should -Be $before.Flags
            $after.Audit | Should -Be $before.Audit
            $after.Ledger | Should -Be $before.Ledger
        }
        It 'http to a non-loopback host -> InsecureBaseUri' {
            $before = Get-Snapshot
            $requestsBefore = @(Get-Requests).Count
            { Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $script:SecureToken -BaseUri 'http://ld.example.com' } |
                Should -Throw -ErrorId 'InsecureBaseUri,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            $after = Get-Snapshot
            $after.Flags | Should -Be $before.Flags
            $after.Ledger | Should -Be $before.Ledger
            @(Get-Requests).Count | Should -Be $requestsBefore -Because 'nothing was sent anywhere'
        }
        It '<Name> -> <ErrorId>' -ForEach @(
            @{ Name = 'unknown flag'; ErrorId = 'FlagNotFound'; Flag = 'no-such-flag'; Environment = 'staging'; Percentage = 10 }
            @{ Name = 'unknown environment'; ErrorId = 'EnvironmentNotFound'; Flag = 'new-billing'; Environment = 'qa'; Percentage = 10 }
            @{ Name = 'non-boolean flag'; ErrorId = 'FlagNotBoolean'; Flag = 'checkout-theme'; Environment = 'production'; Percentage = 10 }
            @{ Name = 'percentage 101'; ErrorId = 'PercentageOutOfRange'; Flag = 'new-billing'; Environment = 'staging'; Percentage = 101 }
            @{ Name = 'percentage with 4 decimals'; ErrorId = 'PercentageTooPrecise'; Flag = 'new-billing'; Environment = 'staging'; Percentage = 12.3456 }
        ) {
            $before = Get-Snapshot $Flag
            { Set-FlagPercentage -Flag $Flag -Environment $Environment -Percentage $Percentage -Reason 'bad input' -ApprovalTicket 'T-1' -ErrorAction Stop } |
                Should -Throw -ErrorId "$ErrorId,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand"
            $after = Get-Snapshot $Flag
            $after.Flag | Should -Be $before.Flag -Because "the targeted flag $Flag is unchanged"
            $after.Flags | Should -Be $before.Flags -Because 'and so is every other flag'
            $after.Audit | Should -Be $before.Audit
            $after.Ledger | Should -Be $before.Ledger
        }
    }
}
