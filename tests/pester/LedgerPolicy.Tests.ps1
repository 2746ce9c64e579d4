#Requires -Version 7.4
# Issue 9, item 3: no silent throwaway ledger where it matters. In a protected environment a change other than
# switching off needs a ledger someone chose (Connect-FlagLedger, $PMS_FLAGS_LEDGER or -Ledger), else it is refused
# with LedgerNotConfigured before anything changes; a switch-off goes on and warns where its event went. Under CI the
# default ledger is announced as a warning, and every default path is absolute: relative variables resolve against
# pwsh's location, not the process's working directory.
#
# Every case runs in a fresh runspace: the session under test has chosen no ledger (FlagSession is per runspace).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedCi = @{}
    foreach ($name in 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'TF_BUILD', 'HOME') {
        $script:savedCi[$name] = [Environment]::GetEnvironmentVariable($name)
        if ($name -ne 'HOME') { [Environment]::SetEnvironmentVariable($name, $null) }
    }

    function Invoke-Unchosen {
        <#
        Runs one command in a fresh runspace that connected only the sandbox's flag document (and, with -ProtectedEnvironment,
        that set). Output: 'NO-ERROR' or 'ERROR:<FullyQualifiedErrorId>', after whatever the command wrote.
        #>
        param([Parameter(Mandatory)] $Sandbox, [Parameter(Mandatory)] [string] $Command, [string[]] $ProtectedEnvironment = @('production'), [object[]] $ArgumentList = @(), [string] $Location = $Sandbox.Root)
        $script = @"
param(`$flagFile, `$protected, `$a1, `$a2)
`$null = Connect-FlagStore -Path `$flagFile -ProtectedEnvironment `$protected
try { $Command -ErrorAction Stop; 'NO-ERROR' } catch { 'ERROR:' + `$_.FullyQualifiedErrorId; 'MESSAGE:' + `$_.Exception.Message }
"@
        Invoke-InFreshRunspace -Location $Location -Script $script -ArgumentList (@($Sandbox.FlagFile, $ProtectedEnvironment) + $ArgumentList)
    }

    function Get-SandboxSnapshot($Sandbox) {
        <# The flag document, the default ledger and every file under the state folder, byte for byte. #>
        $files = @($Sandbox.FlagFile, (Join-Path $Sandbox.StateDir 'audit.jsonl'), $Sandbox.LedgerPath)
        if (Test-Path -LiteralPath $Sandbox.StateDir) { $files += @(Get-ChildItem -LiteralPath $Sandbox.StateDir -Recurse -File).FullName }
        Get-FileSnapshot -Path ($files | Sort-Object -Unique)
    }
}

AfterAll {
    foreach ($name in $script:savedCi.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedCi[$name]) }
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Ledger policy: a change in a protected environment needs a chosen ledger' -Tag LedgerPolicy {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $defaultLedger = Join-Path $sandbox.StateDir 'audit.jsonl'
    }
    AfterEach {
        $env:PMS_FLAGS_LEDGER = $null
        Remove-FlagSandbox $sandbox
    }

    It 'Set-FlagPercentage above 0 in production without a chosen ledger is LedgerNotConfigured, and nothing changes' {
        $before = Get-SandboxSnapshot $sandbox
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 25 -Reason r -ApprovalTicket CHG-1'
        $run.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        ($run.Output -like 'MESSAGE:*') | Should -BeLike "*Connect-FlagLedger*PMS_FLAGS_LEDGER*-Ledger*'$defaultLedger'*Nothing was changed*"
        Get-SandboxSnapshot $sandbox | Should -Be $before
        Test-Path -LiteralPath $sandbox.StateDir | Should -BeFalse -Because 'not even the spool folder is created'
    }

    It 'Enable-Flag in production without a chosen ledger is LedgerNotConfigured, and nothing changes' {
        $before = Get-SandboxSnapshot $sandbox
        $run = Invoke-Unchosen $sandbox 'Enable-Flag -Flag new_reports -Environment production -Reason r -ApprovalTicket CHG-1 -Force'
        $run.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.EnableFlagCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
        (Read-FlagDocument $sandbox.FlagFile).production.new_reports | Should -BeFalse
    }

    It 'Start-FlagRollout in production without a chosen ledger is LedgerNotConfigured, before any guardrail is asked' {
        $before = Get-SandboxSnapshot $sandbox
        # Port 9 (discard) answers nothing: the refusal comes first, so the dead guardrail is never evaluated.
        $run = Invoke-Unchosen $sandbox @'
Start-FlagRollout -Flag new_reports -Environment production -Stages 5, 100 -BakeTime 00:10:00 -Guardrail (New-FlagGuardrail -HealthUrl 'http://127.0.0.1:9/health') -Reason r -ApprovalTicket CHG-1 -NoWait
'@
        $run.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'a store connected with -ProtectedEnvironment staging protects staging (the same set the approval check uses)' {
        $before = Get-SandboxSnapshot $sandbox
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 25 -Reason r -ApprovalTicket CHG-1' -ProtectedEnvironment staging
        $run.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'an unprotected environment still uses the default ledger, quietly outside CI' {
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 25 -Reason r'
        $run.Output | Should -Contain 'NO-ERROR'
        $run.Warning | Should -BeNullOrEmpty
        (Read-LedgerLine $defaultLedger).event_type | Should -Be 'feature_flag_toggled'
    }

    It '-WhatIf previews a protected change without a chosen ledger and changes nothing' {
        $before = Get-SandboxSnapshot $sandbox
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 25 -Reason r -ApprovalTicket CHG-1 -WhatIf'
        $run.Output | Should -Contain 'NO-ERROR'
        Get-SandboxSnapshot $sandbox | Should -Be $before
    }

    It 'Connect-FlagLedger is a choice: the production change is made and recorded there' {
        $run = Invoke-Unchosen $sandbox 'Connect-FlagLedger -Path $a1 3>$null | Out-Null; Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 25 -Reason r -ApprovalTicket CHG-1' -ArgumentList $sandbox.LedgerPath
        $run.Output | Should -Contain 'NO-ERROR'
        (Read-LedgerLine $sandbox.LedgerPath).rollout_percentage | Should -Be 25
        Test-Path -LiteralPath $defaultLedger | Should -BeFalse
    }

    It '$env:PMS_FLAGS_LEDGER is a choice: the production change is made and recorded there' {
        $env:PMS_FLAGS_LEDGER = $sandbox.LedgerPath
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 25 -Reason r -ApprovalTicket CHG-1'
        $run.Output | Should -Contain 'NO-ERROR'
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 1
        (Read-FlagDocument $sandbox.FlagFile).production.new_billing_engine.rollout_percentage | Should -Be 25
    }

    It '-Ledger is a choice: the production change is made and recorded there' {
        $chosen = New-FlagSandbox   # connects this session only; its ledger object is passed to the fresh one
        try {
            $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 25 -Reason r -ApprovalTicket CHG-1 -Ledger $a1' -ArgumentList $chosen.Ledger
            $run.Output | Should -Contain 'NO-ERROR'
            @(Read-LedgerLine $chosen.LedgerPath).Count | Should -Be 1
            Test-Path -LiteralPath $defaultLedger | Should -BeFalse
        }
        finally { Remove-FlagSandbox $chosen }
    }
}

Describe 'Ledger policy: switching off is never held up, and says where its event went' -Tag LedgerPolicy {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $defaultLedger = Join-Path $sandbox.StateDir 'audit.jsonl'
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'Disable-Flag in production without a chosen ledger switches off, records in the default ledger and warns with its absolute path' {
        $run = Invoke-Unchosen $sandbox 'Disable-Flag -Flag patient_portal_v2 -Environment production -Reason incident -Force'
        $run.Output | Should -Contain 'NO-ERROR'
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2 | Should -BeFalse
        (Read-LedgerLine $defaultLedger).event_type | Should -Be 'feature_flag_toggled'
        [IO.Path]::IsPathRooted($defaultLedger) | Should -BeTrue
        @($run.Warning.Message) | Should -Contain "No ledger was chosen for protected environment 'production': this switch-off is recorded in the default ledger '$defaultLedger'. Copy that event to the team's ledger; run Connect-FlagLedger or set PMS_FLAGS_LEDGER so the next one goes there."
    }

    It 'Set-FlagPercentage 0 in production counts as switching off: it proceeds and warns' {
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 0 -Reason incident -ApprovalTicket CHG-1'
        $run.Output | Should -Contain 'NO-ERROR'
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2 | Should -BeFalse -Because '0 % is written as the playbook''s plain false'
        ($run.Warning.Message -join "`n") | Should -BeLike "*default ledger '$defaultLedger'*"
    }

    It 'Invoke-EmergencyRollback in production without a chosen ledger switches off and warns where the event went' {
        $run = Invoke-Unchosen $sandbox 'Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason incident -Force | Out-Null'
        $run.Output | Should -Contain 'NO-ERROR'
        (Read-FlagDocument $sandbox.FlagFile).production.patient_portal_v2 | Should -BeFalse
        @(Read-LedgerLine $defaultLedger).event_type | Should -Contain 'feature_flag_toggled'
        ($run.Warning.Message -join "`n") | Should -BeLike "*switch-off is recorded in the default ledger '$defaultLedger'*"
    }
}

Describe 'Ledger policy: rollout commands' -Tag LedgerPolicy {
    BeforeAll {
        $script:Flag = 'telehealth_appointments_enabled'
    }
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $defaultLedger = Join-Path $sandbox.StateDir 'audit.jsonl'
        $null = New-Item -ItemType Directory $sandbox.StateDir
        $backend = Start-BackendStandIn -FlagFile $sandbox.FlagFile -Flag $script:Flag -Environment production
        # Started with the default ledger's path connected as a choice, so that later commands that do not
        # choose find the rollout in the default ledger and meet the policy rather than RolloutNotFound.
        $start = Invoke-Unchosen $sandbox @'
$null = Connect-FlagLedger -Path $a1 3>$null
$g = New-FlagGuardrail -HealthUrl "$a2/health" -Name backend-health
Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 100 -BakeTime 01:00:00 -Guardrail $g -Reason r -ApprovalTicket CHG-1 -NoWait | Out-Null
'@ -ArgumentList $defaultLedger, $backend.BaseUri
        $start.Output | Should -Contain 'NO-ERROR'
        $rolloutId = (Read-LedgerLine $defaultLedger | Where-Object event_type -EQ 'rollout_started').rollout_id
    }
    AfterEach {
        Stop-StandIn $backend
        Remove-FlagSandbox $sandbox
    }

    It 'Step-FlagRollout and Resume-FlagRollout refuse without a chosen ledger; Suspend and Stop proceed and warn' {
        $rolloutId | Should -Not -BeNullOrEmpty
        $before = Get-SandboxSnapshot $sandbox
        $step = Invoke-Unchosen $sandbox 'Step-FlagRollout -RolloutId $a1 | Out-Null' -ArgumentList $rolloutId
        $step.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before

        $suspend = Invoke-Unchosen $sandbox 'Suspend-FlagRollout -RolloutId $a1 -Reason hold | Out-Null' -ArgumentList $rolloutId
        $suspend.Output | Should -Contain 'NO-ERROR'
        ($suspend.Warning.Message -join "`n") | Should -BeLike "*recorded in the default ledger '$defaultLedger'*"

        $before = Get-SandboxSnapshot $sandbox
        $resume = Invoke-Unchosen $sandbox 'Resume-FlagRollout -RolloutId $a1 -Reason go -ApprovalTicket CHG-1 | Out-Null' -ArgumentList $rolloutId
        $resume.Output | Should -Contain 'ERROR:LedgerNotConfigured,PMS.Flags.Cmdlets.Commands.ResumeFlagRolloutCommand'
        Get-SandboxSnapshot $sandbox | Should -Be $before

        $stop = Invoke-Unchosen $sandbox 'Stop-FlagRollout -RolloutId $a1 -Reason abort -Force | Out-Null' -ArgumentList $rolloutId
        $stop.Output | Should -Contain 'NO-ERROR'
        ($stop.Warning.Message -join "`n") | Should -BeLike "*recorded in the default ledger '$defaultLedger'*"
        (Read-FlagDocument $sandbox.FlagFile).production.$script:Flag | Should -BeFalse
        @(Read-LedgerLine $defaultLedger).event_type | Should -Contain 'rollout_rolled_back'
    }

    It 'Step-FlagRollout proceeds once $env:PMS_FLAGS_LEDGER names the ledger' {
        $env:PMS_FLAGS_LEDGER = $defaultLedger
        try {
            $step = Invoke-Unchosen $sandbox 'Step-FlagRollout -RolloutId $a1 | Out-Null' -ArgumentList $rolloutId
            $step.Output | Should -Contain 'NO-ERROR'
            $step.Warning | Should -BeNullOrEmpty
        }
        finally { $env:PMS_FLAGS_LEDGER = $null }
    }
}

Describe 'Ledger policy: the default ledger under CI and relative paths' -Tag LedgerPolicy {
    BeforeEach {
        $sandbox = New-FlagSandbox -NoConnect
        $defaultLedger = Join-Path $sandbox.StateDir 'audit.jsonl'
    }
    AfterEach {
        foreach ($name in 'GITHUB_ACTIONS', 'TF_BUILD', 'PMS_FLAGS_LEDGER', 'XDG_STATE_HOME') { [Environment]::SetEnvironmentVariable($name, $null) }
        [Environment]::SetEnvironmentVariable('HOME', $script:savedCi['HOME'])
        $env:PMS_FLAGS_STATE_DIR = $sandbox.StateDir
        Remove-FlagSandbox $sandbox
    }

    It 'announces the default ledger as a warning under <Name>=<Value>, once per command' -TestCases @(
        @{ Name = 'GITHUB_ACTIONS'; Value = 'true' }
        @{ Name = 'TF_BUILD'; Value = 'True' }
    ) {
        [Environment]::SetEnvironmentVariable($Name, $Value)
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 25 -Reason r | Out-Null'
        $run.Output | Should -Contain 'NO-ERROR'
        @($run.Warning.Message) | Should -Be @("No ledger connected; using the default ledger '$defaultLedger' (set PMS_FLAGS_LEDGER or run Connect-FlagLedger to choose another). This CI runner's copy is deleted with the runner.")
    }

    It 'does not announce a ledger chosen by $env:PMS_FLAGS_LEDGER under CI' {
        [Environment]::SetEnvironmentVariable('GITHUB_ACTIONS', 'true')
        $env:PMS_FLAGS_LEDGER = $sandbox.LedgerPath
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 25 -Reason r | Out-Null'
        $run.Output | Should -Contain 'NO-ERROR'
        $run.Warning | Should -BeNullOrEmpty
    }

    It 'resolves a relative <Variable> against pwsh''s location, not the process''s working directory' -TestCases @(
        @{ Variable = 'PMS_FLAGS_LEDGER'; Value = 'rel/chosen.jsonl'; Expected = 'rel/chosen.jsonl' }
        @{ Variable = 'PMS_FLAGS_STATE_DIR'; Value = 'rel-state'; Expected = 'rel-state/audit.jsonl' }
        @{ Variable = 'XDG_STATE_HOME'; Value = 'rel-xdg'; Expected = 'rel-xdg/pms-flags/audit.jsonl' }
        @{ Variable = 'HOME'; Value = 'rel-home'; Expected = 'rel-home/.local/state/pms-flags/audit.jsonl' }
    ) {
        $env:PMS_FLAGS_STATE_DIR = $null
        $env:XDG_STATE_HOME = $null
        [Environment]::SetEnvironmentVariable($Variable, $Value)
        $location = Join-Path $sandbox.Root 'here'
        $null = New-Item -ItemType Directory -Force $location, (Join-Path $location 'rel')
        [Environment]::CurrentDirectory | Should -Not -Be $location -Because 'the process working directory must differ from pwsh''s location for the test to mean anything'
        $run = Invoke-Unchosen $sandbox 'Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 25 -Reason r -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message' -Location $location
        $expectedPath = Join-Path $location $Expected
        $run.Output | Should -Contain 'NO-ERROR'
        ($run.Output -join "`n") | Should -BeLike "*using the default ledger '$expectedPath'*"
        (Read-LedgerLine $expectedPath).event_type | Should -Be 'feature_flag_toggled'
        Test-Path -LiteralPath (Join-Path ([Environment]::CurrentDirectory) $Expected) | Should -BeFalse
    }
}
