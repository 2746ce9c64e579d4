#Requires -Version 7.4
# The pre-deployment checklist and the readiness gate through the BUILT module: every playbook item as ledger events,
# four-eyes in production, machine-evidence items checked against the ledger, an alert-rule file and a REAL Prometheus
# rules endpoint (Debian's prometheus with a rule file loaded), approvals bound to the plan's hash, and the gate in
# front of Start-FlagRollout / Set-FlagPercentage / Enable-Flag in a protected environment -- never in front of a rollback.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $env:PMS_FLAGS_READINESS_GATE = $null
    $script:Flag = 'telehealth_appointments_enabled'
    $script:PlaybookItems = @(
        'configuration-reviewed', 'migrations-tested', 'rollback-tested-in-staging', 'staging-validated', 'performance-assessed',
        'security-review', 'hipaa-compliance', 'alerts-configured', 'rollback-plan-approved', 'notifications-prepared',
        'maintenance-window', 'backup-verified', 'feature-docs-updated', 'api-docs-updated', 'training-materials-prepared',
        'support-briefed')
    $script:MachineItems = 'rollback-tested-in-staging', 'staging-validated'

    # The playbook's "Example Prometheus alerts", from the copy of the playbook in tests/fixtures.
    $script:PlaybookAlerts = Get-PlaybookAlertRules

    function Invoke-Refused([scriptblock] $Action) {
        try { & $Action; $null } catch { $_ }
    }

    function Get-LedgerSnapshot($Sandbox) { Get-FileSnapshot $Sandbox.LedgerPath, $Sandbox.FlagFile }

    # Everything the playbook checklist asks for, done for real: a completed rollout and an emergency rollback of the
    # flag in staging (machine evidence), the alert-rule file, and every other item approved by someone else than its creator.
    function Complete-Checklist($Sandbox, [string] $Flag = $script:Flag) {
        $null = Start-FlagRollout -Flag $Flag -Environment staging -Stages 100 -BakeTime 0 -PollInterval 00:00:01 -Reason 'staging validation'
        $null = Invoke-EmergencyRollback -Flag $Flag -Environment staging -Reason 'rollback drill' -Force
        $rules = Join-Path $Sandbox.Root 'alerts.yml'
        Set-Content -LiteralPath $rules -Value $script:PlaybookAlerts
        foreach ($item in $script:PlaybookItems | Where-Object { $_ -notin $script:MachineItems }) {
            $evidence = if ($item -eq 'alerts-configured') { $rules } else { "evidence for $item" }
            $null = Approve-FlagChecklistItem -Flag $Flag -Environment production -Item $item -Evidence $evidence -User 'reviewer@pms.example.com'
        }
    }

    function Start-RulesPrometheus([string] $Directory, [string] $RuleText) {
        $port = Get-FreeTcpPort
        $null = New-Item -ItemType Directory -Force $Directory
        $config = Join-Path $Directory 'prometheus.yml'
        $ruleFile = Join-Path $Directory 'alerts.yml'
        Set-Content -LiteralPath $ruleFile -Value $RuleText
        @"
global:
  evaluation_interval: 1s
rule_files:
  - '$ruleFile'
"@ | Set-Content $config
        $psi = [System.Diagnostics.ProcessStartInfo]::new('prometheus')
        foreach ($a in "--config.file=$config", "--storage.tsdb.path=$(Join-Path $Directory 'data')", "--web.listen-address=127.0.0.1:$port", '--log.level=warn') { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardError = $true
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $server = [pscustomobject]@{ Process = [System.Diagnostics.Process]::Start($psi); BaseUri = "http://127.0.0.1:$port" }
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ([DateTime]::UtcNow -lt $deadline) {
            try {
                $answer = Invoke-RestMethod "$($server.BaseUri)/api/v1/rules" -TimeoutSec 2
                if ($answer.status -eq 'success') { return $server }
            }
            catch { }
            Start-Sleep -Milliseconds 200
        }
        Stop-TestPrometheus $server
        throw 'Prometheus did not serve its rules endpoint within 30 s.'
    }
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'New-FlagChecklist' -Tag Readiness {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'records the playbook''s whole pre-deployment checklist as one checklist_created event, every item pending or missing' {
        $report = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'

        $report.GetType().FullName | Should -Be 'PMS.Flags.Engine.Readiness.ReadinessReport'
        @($report.Items | ForEach-Object Item) | Should -Be $script:PlaybookItems
        @($report.Items | Where-Object Item -In $script:MachineItems).State | Should -Be @('Missing', 'Missing')
        @($report.Items | Where-Object Item -NotIn $script:MachineItems | Select-Object -ExpandProperty State -Unique) | Should -Be @('Pending')
        @($report.Items.Section | Select-Object -Unique) | Should -Be @('Technical Validation', 'Operational Readiness', 'Documentation')
        $report.Verdict | Should -Be 'NotReady'
        $report.Ready | Should -BeFalse
        $report.FourEyes | Should -BeTrue
        $report.CreatedBy | Should -Be 'release@pms.example.com'

        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events.Count | Should -Be 1
        $events[0].event_type | Should -Be 'checklist_created'
        $events[0].feature_flag | Should -Be $script:Flag
        $events[0].environment | Should -Be 'production'
        @($events[0].details.items.name) | Should -Be $script:PlaybookItems
        $events[0].details.four_eyes | Should -BeTrue
        $report.ChecklistId | Should -Be $events[0].event_id
    }

    It 'reports NoChecklist for a flag without one' {
        $report = Test-FlagReadiness -Flag $script:Flag -Environment production
        $report.Verdict | Should -Be 'NoChecklist'
        $report.Ready | Should -BeFalse
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 0 -Because 'reading readiness writes nothing'
    }

    It 'takes a custom template file with its own items and checks' {
        $template = Join-Path $sandbox.Root 'team.json'
        '{ "name": "team-release", "items": [ { "name": "security-review", "title": "Security review completed", "section": "Tech" }, { "name": "drill", "title": "Rollback drilled", "check": "rollback-in-staging" } ] }' | Set-Content $template
        $report = New-FlagChecklist -Flag $script:Flag -Environment production -Template $template
        $report.Template | Should -Be 'team-release'
        @($report.Items | ForEach-Object Item) | Should -Be @('security-review', 'drill')
        @($report.Items.State) | Should -Be @('Pending', 'Missing')
    }

    It 'refuses <Name> with <ErrorId> and writes nothing' -ForEach @(
        @{ Name = 'an unknown template name'; ErrorId = 'ChecklistTemplateUnknown'; Content = $null; Template = 'NoSuchTemplate' }
        @{ Name = 'a template that is not JSON'; ErrorId = 'ChecklistTemplateInvalid'; Content = 'items: [security-review]'; Template = 'bad.json' }
        @{ Name = 'a template with an unknown check'; ErrorId = 'ChecklistTemplateInvalid'; Content = '{ "name": "t", "items": [ { "name": "a", "title": "A", "check": "trust-me" } ] }'; Template = 'bad.json' }
        @{ Name = 'a template with a duplicate item'; ErrorId = 'ChecklistTemplateInvalid'; Content = '{ "name": "t", "items": [ { "name": "a", "title": "A" }, { "name": "a", "title": "B" } ] }'; Template = 'bad.json' }
        @{ Name = 'a template without items'; ErrorId = 'ChecklistTemplateInvalid'; Content = '{ "name": "t", "items": [] }'; Template = 'bad.json' }
    ) {
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'seed event'
        $path = Join-Path $sandbox.Root $Template
        if ($Content) { Set-Content -LiteralPath $path -Value $Content }
        $before = Get-LedgerSnapshot $sandbox

        $err = Invoke-Refused { New-FlagChecklist -Flag $script:Flag -Environment production -Template $(if ($Content) { $path } else { $Template }) }

        $err.FullyQualifiedErrorId | Should -Be "$ErrorId,PMS.Flags.Cmdlets.Commands.NewFlagChecklistCommand"
        Get-LedgerSnapshot $sandbox | Should -Be $before
    }

    It 'refuses a -Plan that is not a plan with ChecklistPlanInvalid and writes nothing' {
        $err = Invoke-Refused { New-FlagChecklist -Flag $script:Flag -Environment production -Plan @{ BakeTime = 'not a duration' } }
        $err.FullyQualifiedErrorId | Should -Be 'ChecklistPlanInvalid,PMS.Flags.Cmdlets.Commands.NewFlagChecklistCommand'
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 0
    }

    It '-WhatIf writes nothing' {
        New-FlagChecklist -Flag $script:Flag -Environment production -WhatIf | Should -BeNullOrEmpty
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 0
    }
}

Describe 'Approve-FlagChecklistItem' -Tag Readiness {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $null = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'records who approved what, when, with what evidence' {
        $status = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item security-review -Evidence 'https://wiki.pms.example.com/sec/4711' -User 'security@pms.example.com' -ApprovalTicket 'SEC-1'

        $status.State | Should -Be 'Approved'
        $status.ApprovedBy | Should -Be 'security@pms.example.com'
        $status.EvidenceText | Should -Be 'https://wiki.pms.example.com/sec/4711'
        $last = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $last.event_type | Should -Be 'checklist_item_approved'
        $last.user_id | Should -Be 'security@pms.example.com'
        $last.approval_ticket | Should -Be 'SEC-1'
        $last.details.item | Should -Be 'security-review'
        $last.details.evidence | Should -Be 'https://wiki.pms.example.com/sec/4711'
        $last.details.checklist_id | Should -Be @(Read-LedgerLine $sandbox.LedgerPath)[0].event_id
        $last.details.principal | Should -Not -BeNullOrEmpty
        (Test-FlagReadiness -Flag $script:Flag -Environment production).Items.Where({ $_.Item -eq 'security-review' }).State | Should -Be 'Approved'
    }

    It 'refuses <Name> with <ErrorId> and writes nothing' -ForEach @(
        @{ Name = 'an unknown item'; ErrorId = 'ChecklistItemUnknown'; Item = 'coffee-made'; User = 'reviewer@pms.example.com'; Evidence = 'x' }
        @{ Name = 'the creator''s own approval under four-eyes'; ErrorId = 'ChecklistFourEyesViolation'; Item = 'security-review'; User = 'release@pms.example.com'; Evidence = 'x' }
        @{ Name = 'a machine-evidence item'; ErrorId = 'ChecklistItemNotApprovable'; Item = 'rollback-tested-in-staging'; User = 'reviewer@pms.example.com'; Evidence = 'trust me' }
        @{ Name = 'empty evidence'; ErrorId = 'ChecklistEvidenceRequired'; Item = 'security-review'; User = 'reviewer@pms.example.com'; Evidence = '' }
        @{ Name = 'alert rules that are not a file or URI'; ErrorId = 'ChecklistEvidenceInvalid'; Item = 'alerts-configured'; User = 'reviewer@pms.example.com'; Evidence = 'we have alerts' }
        @{ Name = 'a Prometheus URI with credentials'; ErrorId = 'ChecklistEvidenceInvalid'; Item = 'alerts-configured'; User = 'reviewer@pms.example.com'; Evidence = 'http://admin:s3cret@127.0.0.1:9/' }
    ) {
        $before = Get-LedgerSnapshot $sandbox
        $err = Invoke-Refused { Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item $Item -Evidence $Evidence -User $User }
        $err.FullyQualifiedErrorId | Should -Be "$ErrorId,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand"
        Get-LedgerSnapshot $sandbox | Should -Be $before
        $err.Exception.Message | Should -Not -BeLike '*s3cret*'
    }

    It 'refuses approving an item twice with ChecklistItemAlreadyApproved and writes nothing' {
        $null = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item hipaa-compliance -Evidence 'HIPAA-77' -User 'privacy@pms.example.com'
        $before = Get-LedgerSnapshot $sandbox
        $err = Invoke-Refused { Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item hipaa-compliance -Evidence 'again' -User 'other@pms.example.com' }
        $err.FullyQualifiedErrorId | Should -Be 'ChecklistItemAlreadyApproved,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand'
        $err.Exception.Message | Should -BeLike '*privacy@pms.example.com*'
        Get-LedgerSnapshot $sandbox | Should -Be $before
    }

    It 'refuses an approval without a checklist with ChecklistNotFound' {
        $err = Invoke-Refused { Approve-FlagChecklistItem -Flag new_reports -Environment production -Item security-review -Evidence x -User 'reviewer@pms.example.com' }
        $err.FullyQualifiedErrorId | Should -Be 'ChecklistNotFound,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand'
    }

    It 'lets the creator approve outside a protected environment (no four-eyes in staging)' {
        $report = New-FlagChecklist -Flag $script:Flag -Environment staging -User 'dev@pms.example.com'
        $report.FourEyes | Should -BeFalse
        (Approve-FlagChecklistItem -Flag $script:Flag -Environment staging -Item security-review -Evidence 'x' -User 'dev@pms.example.com').State | Should -Be 'Approved'
    }

    It '-WhatIf writes nothing' {
        $before = Get-LedgerSnapshot $sandbox
        Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item security-review -Evidence x -User 'reviewer@pms.example.com' -WhatIf | Should -BeNullOrEmpty
        Get-LedgerSnapshot $sandbox | Should -Be $before
    }

    It 'a new checklist replaces the previous one: its approvals no longer count' {
        $null = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item security-review -Evidence x -User 'reviewer@pms.example.com'
        $report = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'
        $report.Items.Where({ $_.Item -eq 'security-review' }).State | Should -Be 'Pending'
    }
}

Describe 'Machine-evidence items' -Tag Readiness {
    BeforeAll {
        function Get-ItemState([string] $Item) { (Test-FlagReadiness -Flag $script:Flag -Environment production).Items.Where({ $_.Item -eq $Item })[0] }
    }
    BeforeEach {
        $sandbox = New-FlagSandbox
        $null = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'
    }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'rollback-tested-in-staging fails without a rollback of the flag in staging and passes after an emergency rollback there' {
        (Get-ItemState 'rollback-tested-in-staging').State | Should -Be 'Missing'
        $null = Invoke-EmergencyRollback -Flag $script:Flag -Environment production -Reason 'a production rollback is not a staging test' -ApprovalTicket INC-1 -Force
        (Get-ItemState 'rollback-tested-in-staging').State | Should -Be 'Missing'
        $null = Invoke-EmergencyRollback -Flag $script:Flag -Environment staging -Reason 'drill' -Force
        $item = Get-ItemState 'rollback-tested-in-staging'
        $item.State | Should -Be 'Checked'
        $item.Detail | Should -BeLike '*emergency_rollback*'
    }

    It 'staging-validated fails without a completed rollout in staging and passes after one' {
        (Get-ItemState 'staging-validated').State | Should -Be 'Missing'
        $null = Set-FlagPercentage -Flag $script:Flag -Environment staging -Percentage 30 -Reason 'a direct change is not a validated rollout'
        (Get-ItemState 'staging-validated').State | Should -Be 'Missing'
        $state = Start-FlagRollout -Flag new_scheduler -Environment staging -Stages 100 -BakeTime 0 -PollInterval 00:00:01 -Reason 'another flag'
        (Get-ItemState 'staging-validated').State | Should -Be 'Missing' -Because 'a rollout of another flag proves nothing'
        $state = Start-FlagRollout -Flag $script:Flag -Environment staging -Stages 50, 100 -BakeTime 0 -PollInterval 00:00:01 -Reason 'staging validation'
        $state.Status | Should -Be 'Completed'
        (Get-ItemState 'staging-validated').State | Should -Be 'Checked'
    }

    It 'alerts-configured refuses a file without alert rules (ChecklistEvidenceMissing, nothing written) and takes the playbook''s rule file' {
        $empty = Join-Path $sandbox.Root 'empty.yml'
        "groups: []`n" | Set-Content $empty
        $before = Get-LedgerSnapshot $sandbox
        $err = Invoke-Refused { Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item alerts-configured -Evidence $empty -User 'sre@pms.example.com' }
        $err.FullyQualifiedErrorId | Should -Be 'ChecklistEvidenceMissing,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand'
        Get-LedgerSnapshot $sandbox | Should -Be $before

        $rules = Join-Path $sandbox.Root 'alerts.yml'
        Set-Content -LiteralPath $rules -Value $script:PlaybookAlerts
        Push-Location $sandbox.Root
        try { $status = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item alerts-configured -Evidence ./alerts.yml -User 'sre@pms.example.com' }
        finally { Pop-Location }
        $status.State | Should -Be 'Approved'
        $status.EvidenceText | Should -Be $rules -Because 'a relative path is recorded in full, so it can be checked again from anywhere'
        $status.Detail | Should -BeLike '*HighErrorRate, SlowResponseTime*'

        Remove-Item -LiteralPath $rules
        $item = Get-ItemState 'alerts-configured'
        $item.State | Should -Be 'Missing' -Because 'the evidence is checked again at every evaluation'
        $item.Detail | Should -BeLike 'approved, but*'
    }

    It 'alerts-configured is checked against a real Prometheus rules endpoint' {
        $directory = Join-Path $sandbox.Root 'prometheus'
        $prometheus = Start-RulesPrometheus -Directory $directory -RuleText $script:PlaybookAlerts
        $bare = Start-RulesPrometheus -Directory (Join-Path $sandbox.Root 'prometheus-bare') -RuleText "groups: []`n"
        try {
            $before = Get-LedgerSnapshot $sandbox
            $err = Invoke-Refused { Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item alerts-configured -Evidence $bare.BaseUri -User 'sre@pms.example.com' }
            $err.FullyQualifiedErrorId | Should -Be 'ChecklistEvidenceMissing,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand'
            $err.Exception.Message | Should -BeLike '*no alerting rules*'
            Get-LedgerSnapshot $sandbox | Should -Be $before

            $status = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item alerts-configured -Evidence $prometheus.BaseUri -User 'sre@pms.example.com'
            $status.State | Should -Be 'Approved'
            $status.Detail | Should -BeLike "*$($prometheus.BaseUri)/api/v1/rules*HighErrorRate*SlowResponseTime*"
        }
        finally {
            Stop-TestPrometheus $prometheus
            Stop-TestPrometheus $bare
        }
        (Get-ItemState 'alerts-configured').State | Should -Be 'Missing' -Because 'the Prometheus that held the rules is gone'
    }
}

Describe 'Approvals bound to the plan' -Tag Readiness {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'records the plan''s hash; the same plan passes the gate, a changed one finds the approvals void and names the field' {
        $plan = @{ Stages = 5, 25, 50, 100; BakeTime = '01:00:00' }
        $report = New-FlagChecklist -Flag $script:Flag -Environment production -Plan $plan -User 'release@pms.example.com'
        $report.PlanHash | Should -Match '^[0-9a-f]{64}$'
        @(Read-LedgerLine $sandbox.LedgerPath)[0].details.plan_hash | Should -Be $report.PlanHash
        Complete-Checklist $sandbox
        (Test-FlagReadiness -Flag $script:Flag -Environment production -Plan $plan).Verdict | Should -Be 'Ready'

        $changed = @{ Stages = 10, 50, 100; BakeTime = '01:00:00' }
        $void = Test-FlagReadiness -Flag $script:Flag -Environment production -Plan $changed 3>$null
        $void.Verdict | Should -Be 'NotReady'
        @($void.Items | Where-Object Item -NotIn $script:MachineItems | Select-Object -ExpandProperty State -Unique) | Should -Be @('Void')
        @($void.PlanChanges) | Should -HaveCount 1
        $void.PlanChanges[0] | Should -BeLike 'stages: approved 5,25,50,100, now 10,50,100'

        $before = Get-LedgerSnapshot $sandbox
        $err = Invoke-Refused { Start-FlagRollout -Flag $script:Flag -Environment production @changed -Reason 'release' -ApprovalTicket CHG-1 -NoWait }
        $err.FullyQualifiedErrorId | Should -Be 'FlagNotReady,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand'
        $err.Exception.Message | Should -BeLike '*void*stages: approved 5,25,50,100, now 10,50,100*'
        Get-LedgerSnapshot $sandbox | Should -Be $before

        $err = Invoke-Refused { Start-FlagRollout -Flag $script:Flag -Environment production -Stages 5, 25, 50, 100 -BakeTime 00:30:00 -Reason 'release' -ApprovalTicket CHG-1 -NoWait }
        $err.Exception.Message | Should -BeLike '*bake_time: approved 01:00:00, now 00:30:00*'

        $guarded = $plan + @{ Guardrail = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl http://127.0.0.1:9 }
        $err = Invoke-Refused { Start-FlagRollout -Flag $script:Flag -Environment production @guarded -Reason 'release' -ApprovalTicket CHG-1 -NoWait }
        $err.Exception.Message | Should -BeLike '*guardrails: HighErrorRate added*'
        Get-LedgerSnapshot $sandbox | Should -Be $before

        $started = Start-FlagRollout -Flag $script:Flag -Environment production @plan -Reason 'release' -ApprovalTicket CHG-1 -NoWait
        $started.Status | Should -Be 'Running'
        $startedEvent = @(Read-LedgerLine $sandbox.LedgerPath | Where-Object event_type -EQ 'rollout_started')[-1]
        $startedEvent.details.readiness.verdict | Should -Be 'ready'
        $startedEvent.details.readiness.plan_hash | Should -Be $report.PlanHash
        $startedEvent.details.readiness.checklist_id | Should -Be $report.ChecklistId
    }
}

Describe 'The readiness gate' -Tag Readiness {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It '<Name> in production refuses with FlagNotReady, listing the missing items, and changes nothing' -ForEach @(
        @{ Name = 'Set-FlagPercentage 5'; Command = 'SetFlagPercentageCommand'; Action = { Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket T-1 } }
        @{ Name = 'Enable-Flag'; Command = 'EnableFlagCommand'; Action = { Enable-Flag -Flag $script:Flag -Environment production -Reason 'r' -ApprovalTicket T-1 -Force } }
        @{ Name = 'Start-FlagRollout'; Command = 'StartFlagRolloutCommand'; Action = { Start-FlagRollout -Flag $script:Flag -Environment production -Stages 5, 25 -BakeTime 01:00:00 -Reason 'r' -ApprovalTicket T-1 -NoWait } }
    ) {
        $null = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'
        $null = Approve-FlagChecklistItem -Flag $script:Flag -Environment production -Item security-review -Evidence x -User 'reviewer@pms.example.com'
        $before = Get-LedgerSnapshot $sandbox

        $err = Invoke-Refused $Action

        $err.FullyQualifiedErrorId | Should -Be "FlagNotReady,PMS.Flags.Cmdlets.Commands.$Command"
        $err.Exception.Message | Should -BeLike '*15 checklist item(s) missing: configuration-reviewed, migrations-tested, rollback-tested-in-staging*'
        $err.Exception.Message | Should -Not -BeLike '*security-review*'
        Get-LedgerSnapshot $sandbox | Should -Be $before
        (Get-Flag -Flag $script:Flag -Environment production).On | Should -BeFalse
    }

    It 'refuses without any checklist, naming it' {
        $err = Invoke-Refused { Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket T-1 }
        $err.FullyQualifiedErrorId | Should -Be 'FlagNotReady,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $err.Exception.Message | Should -BeLike '*checklist (none exists)*'
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 0
    }

    It 'lets a passing checklist through and records the policy in the change''s event' {
        $null = New-FlagChecklist -Flag $script:Flag -Environment production -User 'release@pms.example.com'
        Complete-Checklist $sandbox
        $record = Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'phase 1' -ApprovalTicket T-1
        $record.Percentage | Should -Be 5
        $toggle = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $toggle.event_type | Should -Be 'feature_flag_toggled'
        $toggle.details.readiness.verdict | Should -Be 'ready'
        $toggle.details.readiness.gate | Should -Be 'readiness'
    }

    It '-OverrideReadiness is its own audited event, written before the change, and the change records the override' {
        $record = Enable-Flag -Flag $script:Flag -Environment production -Reason 'Regulator deadline; checklist in CHG-9' -ApprovalTicket CHG-9 -OverrideReadiness -User 'cto@pms.example.com' -Force 3>$null
        $record.On | Should -BeTrue
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        @($events.event_type) | Should -Be @('readiness_overridden', 'feature_flag_toggled')
        $events[0].reason | Should -Be 'Regulator deadline; checklist in CHG-9'
        $events[0].user_id | Should -Be 'cto@pms.example.com'
        $events[0].approval_ticket | Should -Be 'CHG-9'
        @($events[0].details.missing) | Should -Be @('checklist (none exists)')
        $events[1].details.readiness.verdict | Should -Be 'overridden'
        $events[1].details.readiness.override_event_id | Should -Be $events[0].event_id
    }

    It '-OverrideReadiness warns that the gate was overridden' {
        $warnings = $null
        $null = Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'hotfix' -ApprovalTicket T-2 -OverrideReadiness -WarningVariable warnings 3>$null
        "$warnings" | Should -BeLike '*OVERRIDDEN*'
    }

    It 'never gates switching off, percentage 0, an emergency rollback or stopping a rollout' {
        $null = Start-FlagRollout -Flag $script:Flag -Environment production -Stages 5, 25 -BakeTime 01:00:00 -Reason 'r' -ApprovalTicket T-1 -NoWait -OverrideReadiness 3>$null
        (Stop-FlagRollout -Flag $script:Flag -Environment production -Reason 'stop' -ApprovalTicket T-1 -Force).Status | Should -Be 'Aborted'
        (Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 0 -Reason 'zero' -ApprovalTicket T-1).Percentage | Should -Be 0
        (Disable-Flag -Flag patient_portal_v2 -Environment production -Reason 'off' -Force).On | Should -BeFalse
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment production -Percentage 5 -Reason 'on' -ApprovalTicket T-1 -OverrideReadiness 3>$null
        (Invoke-EmergencyRollback -Flag new_billing_engine -Environment production -Reason 'incident' -ApprovalTicket INC-1 -Force).Flag | Should -Be 'new_billing_engine'
        (Get-Flag -Flag new_billing_engine -Environment production).On | Should -BeFalse
        @(Read-LedgerLine $sandbox.LedgerPath | Where-Object event_type -EQ 'readiness_overridden').Count | Should -Be 2 -Because 'only the two exposing changes met the gate'
    }

    It 'does not gate an environment that is not protected, and says so in the event' {
        $null = Set-FlagPercentage -Flag $script:Flag -Environment staging -Percentage 50 -Reason 'staging'
        $toggle = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $toggle.details.readiness.verdict | Should -Be 'not_gated'
    }

    It 'PMS_FLAGS_READINESS_GATE=off lets the change through and every event says the gate was off' {
        $env:PMS_FLAGS_READINESS_GATE = 'off'
        try { $null = Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket T-1 }
        finally { $env:PMS_FLAGS_READINESS_GATE = $null }
        $toggle = @(Read-LedgerLine $sandbox.LedgerPath)[-1]
        $toggle.details.readiness.verdict | Should -Be 'gate_off'
        $toggle.details.readiness.why | Should -Be 'PMS_FLAGS_READINESS_GATE=off'
    }

    It 'under -WhatIf neither gates nor writes' {
        Set-FlagPercentage -Flag $script:Flag -Environment production -Percentage 5 -Reason 'r' -ApprovalTicket T-1 -WhatIf | Should -BeNullOrEmpty
        @(Read-LedgerLine $sandbox.LedgerPath).Count | Should -Be 0
    }
}
