#Requires -Version 7.4
# Notifications through the BUILT module: the playbook's templates filled with real values (the plan's timeline, the
# ledger's rollback facts), Slack/Teams/webhook/Grafana stand-in receivers that refuse what the services refuse, the
# secrets (webhook URI, Grafana token) never shown or recorded, and -Notify on rollouts and rollbacks: sent AFTER the
# work, recorded, and never in the way of a rollback (proved by the ledger's order of events, not by a stopwatch).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:Secret = 'hook' + [guid]::NewGuid().ToString('N')
    $script:TokenText = 'glsa_' + [guid]::NewGuid().ToString('N')
    $script:receivers = Start-NotificationStandIn -Secret $script:Secret -Token $script:TokenText
    $base = $script:receivers.BaseUri
    $script:SlackUri = "$base/services/T0PMS/B0PMS/$($script:Secret)"
    $script:TeamsUri = "$base/webhookb2/$($script:Secret)"
    $script:WebhookUri = "$base/hooks/$($script:Secret)"
    $script:GrafanaUri = "$base/grafana"
    function New-TestToken([string] $Text = $script:TokenText) { ConvertTo-SecureString $Text -AsPlainText -Force }
    function Get-LedgerEvents($Sandbox) { @(Get-Content -LiteralPath $Sandbox.LedgerPath | ForEach-Object { $_ | ConvertFrom-Json }) }
}

AfterAll {
    Stop-StandIn $script:receivers
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'New-FlagNotification' -Tag Notifications {
    BeforeEach { $sandbox = New-FlagSandbox }
    AfterEach { Remove-FlagSandbox $sandbox }

    It 'PreRollout fills the playbook''s template with the plan''s timeline: each stage one bake time after the last' {
        $n = New-FlagNotification -Template PreRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 25, 50, 100 -BakeTime 00:30:00 -StartTime '2025-01-15T10:00:00Z' -DashboardUrl https://grafana.example.com/d/pms -Contact 'on-call +1 555 0100'
        $n.GetType().FullName | Should -Be 'PMS.Flags.Engine.Notifications.FlagNotification'
        $n.Subject | Should -BeExactly '[PMS] Feature Rollout Starting: telehealth_appointments_enabled'
        $n.Event | Should -Be 'rollout_started'
        $n.Format | Should -Be 'Text'
        $n.Body | Should -BeExactly @'
Team,

We are beginning the gradual rollout of telehealth_appointments_enabled to production.

Timeline:
- Start: 2025-01-15 10:00 UTC
- 5% rollout: 2025-01-15 10:00 UTC
- 25% rollout: 2025-01-15 10:30 UTC
- 50% rollout: 2025-01-15 11:00 UTC
- 100% rollout: 2025-01-15 11:30 UTC

Monitoring: https://grafana.example.com/d/pms
Rollback contact: on-call +1 555 0100

Please monitor support channels for any issues.
'@.Replace("`r", '')
    }

    It 'Markdown makes the subject and the section headings bold' {
        $n = New-FlagNotification -Template PreRollout -Flag new_reports -Environment production -Stages 10, 100 -BakeTime 01:00:00 -StartTime '2025-02-01T08:00:00Z' -Format Markdown
        $n.Format | Should -Be 'Markdown'
        $n.Body | Should -Match '^\*\*\[PMS\] Feature Rollout Starting: new_reports\*\*'
        $n.Body | Should -Match '(?m)^\*\*Timeline:\*\*$'
        $n.Body | Should -Match '(?m)^- 100% rollout: 2025-02-01 09:00 UTC$'
        $n.Body | Should -Match '(?m)^\*\*Monitoring:\*\* \(not given\)$'
    }

    It 'Rollback is read from the ledger: when the flag went off, why, what was done, the status and the ticket' {
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'error rate 7% after 25%' -ApprovalTicket INC-2001 -User oncall@pms.example.com -Force
        $n = New-FlagNotification -Template Rollback -Flag patient_portal_v2 -Environment production -NextSteps 'root cause review at 14:00'
        $n.Subject | Should -BeExactly '[URGENT] [PMS] Feature Rollback: patient_portal_v2'
        $n.Event | Should -Be 'rollback'
        $offAt = $result.FlagOffAt.UtcDateTime.ToString('yyyy-MM-dd HH:mm', [Globalization.CultureInfo]::InvariantCulture)
        $n.Body | Should -Match ([regex]::Escape('patient_portal_v2 has been rolled back due to error rate 7% after 25%.'))
        $n.Body | Should -Match ([regex]::Escape("- Feature disabled at $offAt UTC"))
        $n.Body | Should -Match '(?m)^- Flag read back from the store: off$'
        $sequence = (Get-LedgerEvents $sandbox | Where-Object event_type -EQ 'emergency_rollback' | Select-Object -Last 1).sequence
        $n.Body | Should -Match ([regex]::Escape("- Recorded in the audit ledger (#$sequence, emergency_rollback)"))
        $n.Body | Should -Match '(?m)^Current status: patient_portal_v2 is OFF in production \(verified by reading it back\)$'
        $n.Body | Should -Match '(?m)^Next steps: root cause review at 14:00$'
        $n.Body | Should -Match '(?m)^Incident ticket: INC-2001$'
    }

    It 'RolloutComplete lists when each stage reached users, from the ledger' {
        $started = Start-FlagRollout -Flag new_reports -Environment production -Stages 50, 100 -BakeTime 0 -Reason 'CHG-7 reports' -ApprovalTicket CHG-7 -NoWait
        $steps = @(1..4 | ForEach-Object { Step-FlagRollout -RolloutId $started.RolloutId })
        $steps.Action | Should -Contain 'Completed'
        $n = New-FlagNotification -Template RolloutComplete -Flag new_reports -Environment production
        $n.Subject | Should -BeExactly '[PMS] Feature Rollout Complete: new_reports'
        $n.Event | Should -Be 'rollout_completed'
        $n.Body | Should -Match '(?m)^- 50% rollout: \d{4}-\d\d-\d\d \d\d:\d\d UTC$'
        $n.Body | Should -Match '(?m)^- 100% rollout: \d{4}-\d\d-\d\d \d\d:\d\d UTC$'
        $n.Body | Should -Match '(?m)^- Complete: \d{4}-\d\d-\d\d \d\d:\d\d UTC$'
    }

    It 'a team''s own template (-TemplatePath) is filled the same way' {
        $path = Join-Path $sandbox.Root 'ours.txt'
        Set-Content -LiteralPath $path -Value "Subject: [PMS] [FEATURE_NAME] goes out in [ENVIRONMENT]`nStages [STAGES], [BAKE_TIME] each, from [START_TIME]. Ticket [TICKET_LINK]."
        $n = New-FlagNotification -Template PreRollout -TemplatePath $path -Flag new_reports -Environment staging -Stages 5, 100 -BakeTime 00:15:00 -StartTime '2025-03-01T12:00:00Z' -ApprovalTicket CHG-9
        $n.Subject | Should -BeExactly '[PMS] new_reports goes out in staging'
        $n.Body | Should -BeExactly 'Stages 5% -> 100%, 15m each, from 2025-03-01 12:00 UTC. Ticket CHG-9.'
    }

    It 'refuses <Why> with <ErrorId>, and the ledger is unchanged' -ForEach @(
        @{ Why = 'an unknown template'; ErrorId = 'NotificationTemplateUnknown'; Make = { New-FlagNotification -Template Outage -Flag new_reports -Environment staging } }
        @{ Why = 'a template with an unknown placeholder'; ErrorId = 'NotificationPlaceholderUnknown'; Make = { param($root) $p = Join-Path $root 't.txt'; Set-Content $p 'Hello [TEAM_LEAD], [FEATURE_NAME] is out'; New-FlagNotification -Template PreRollout -TemplatePath $p -Flag new_reports -Environment staging } }
        @{ Why = 'a template file that does not exist'; ErrorId = 'NotificationTemplateUnreadable'; Make = { param($root) New-FlagNotification -Template PreRollout -TemplatePath (Join-Path $root 'missing.txt') -Flag new_reports -Environment staging } }
        @{ Why = 'a rollback message for a flag never rolled back'; ErrorId = 'NotificationNothingToReport'; Make = { New-FlagNotification -Template Rollback -Flag new_reports -Environment staging } }
    ) {
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'seed'
        $before = Get-FileSnapshot $sandbox.LedgerPath, $sandbox.FlagFile
        { & $Make $sandbox.Root } | Should -Throw -ErrorId "$ErrorId,PMS.Flags.Cmdlets.Commands.NewFlagNotificationCommand"
        Get-FileSnapshot $sandbox.LedgerPath, $sandbox.FlagFile | Should -Be $before
    }
}

Describe 'Notification channels and Send-FlagNotification' -Tag Notifications {
    BeforeEach {
        $sandbox = New-FlagSandbox
        Set-NotificationMode $script:receivers ok
        $n = New-FlagNotification -Template PreRollout -Flag new_reports -Environment staging -Stages 5, 100 -BakeTime 00:10:00 -StartTime '2025-01-15T10:00:00Z'
    }
    AfterEach {
        Set-NotificationMode $script:receivers ok
        Remove-FlagSandbox $sandbox
    }

    It 'never shows the webhook URI''s path or the Grafana token: not in the object, its text, verbose output or errors' {
        $slack = New-FlagNotificationChannel -Slack -Uri $script:SlackUri -Verbose 4>&1 | Tee-Object -Variable verbose | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $grafana = New-FlagNotificationChannel -Grafana -Uri $script:GrafanaUri -Token (New-TestToken) -Name dashboards
        $slack.Endpoint | Should -Be "$($script:receivers.BaseUri)/…"
        $grafana.HasToken | Should -BeTrue
        $shown = ($slack, $grafana | Format-List * | Out-String) + ($slack, $grafana | Format-Table | Out-String) + "$slack $grafana" + ($verbose | Out-String) + ($slack, $grafana | ConvertTo-Json -Depth 3)
        $shown | Should -Not -Match $script:Secret
        $shown | Should -Not -Match $script:TokenText
        { New-FlagNotificationChannel -Grafana -Uri $script:GrafanaUri -Token ([securestring]::new()) } | Should -Throw -ErrorId 'NotificationTokenRequired*'
        { New-FlagNotificationChannel -Slack -Uri "http://hooks.example.com/services/T/B/$($script:Secret)" } | Should -Throw -ErrorId 'NotificationChannelInsecure*'
        try { New-FlagNotificationChannel -Slack -Uri "http://hooks.example.com/services/T/B/$($script:Secret)" } catch { "$_" | Should -Not -Match $script:Secret }
        { New-FlagNotificationChannel -Webhook -Uri 'ftp://127.0.0.1/x' } | Should -Throw -ErrorId 'NotificationChannelInvalid*'
    }

    It 'posts each service''s format: Slack text, a Teams MessageCard, the webhook document, a Grafana annotation with the bearer token' {
        $channels = @(
            New-FlagNotificationChannel -Slack -Uri $script:SlackUri -Name '#releases'
            New-FlagNotificationChannel -Teams -Uri $script:TeamsUri
            New-FlagNotificationChannel -Webhook -Uri $script:WebhookUri
            New-FlagNotificationChannel -Grafana -Uri $script:GrafanaUri -Token (New-TestToken)
        )
        $before = @(Get-NotificationReceived $script:receivers).Count
        $deliveries = @($n | Send-FlagNotification -Channel $channels)
        $deliveries.Count | Should -Be 4
        $deliveries.Succeeded | Should -Not -Contain $false
        @($deliveries.StatusCode | Sort-Object -Unique) | Should -Be @(200)

        $got = @(Get-NotificationReceived $script:receivers | Select-Object -Skip $before)
        $slack = $got | Where-Object receiver -EQ slack
        $slack.answer | Should -Be 200
        $slack.body.text | Should -BeExactly "$($n.Subject)`n`n$($n.Body)"
        $slack.body.text | Should -Match '(?m)^- 100% rollout: 2025-01-15 10:10 UTC$'
        $teams = $got | Where-Object receiver -EQ teams
        $teams.body.'@type' | Should -Be 'MessageCard'
        $teams.body.title | Should -Be $n.Subject
        $teams.body.text | Should -Be $n.Body
        $hook = $got | Where-Object receiver -EQ webhook
        $hook.body.event | Should -Be 'rollout_started'
        $hook.body.flag | Should -Be 'new_reports'
        $hook.body.environment | Should -Be 'staging'
        $hook.body.body | Should -Be $n.Body
        $grafana = $got | Where-Object receiver -EQ grafana
        $grafana.authorization | Should -Be 'present'
        $grafana.answer | Should -Be 200
        @($grafana.body.tags) | Should -Be @('new_reports', 'staging', 'rollout_started')
        $grafana.body.text | Should -Be $n.Subject

        # Recorded, one event per channel, without the URI or the token anywhere in the ledger.
        $events = @(Get-LedgerEvents $sandbox | Where-Object event_type -EQ 'notification_sent')
        $events.Count | Should -Be 4
        @($events.outcome | Sort-Object -Unique) | Should -Be @('sent')
        ($events | Where-Object { $_.details.channel -eq '#releases' }).details.kind | Should -Be 'Slack'
        $raw = Get-Content -Raw -LiteralPath $sandbox.LedgerPath
        $raw | Should -Not -Match $script:Secret
        $raw | Should -Not -Match $script:TokenText
        $deliveries.AuditSequence | Should -Not -Contain $null
    }

    It 'a refused token, a receiver answering 500 and an unreachable webhook are NotificationFailed errors, recorded, with no secret in them' {
        $wrong = New-FlagNotificationChannel -Grafana -Uri $script:GrafanaUri -Token (New-TestToken 'not-the-token')
        $delivery = $n | Send-FlagNotification -Channel $wrong -ErrorVariable failures -ErrorAction SilentlyContinue
        $delivery.Succeeded | Should -BeFalse
        $delivery.StatusCode | Should -Be 401
        $failures[0].FullyQualifiedErrorId | Should -Be 'NotificationFailed,PMS.Flags.Cmdlets.Commands.SendFlagNotificationCommand'

        Set-NotificationMode $script:receivers 500
        $delivery = $n | Send-FlagNotification -Channel (New-FlagNotificationChannel -Slack -Uri $script:SlackUri) -ErrorAction SilentlyContinue
        $delivery.Error | Should -BeLike 'HTTP 500*'
        Set-NotificationMode $script:receivers ok

        $port = Get-FreeTcpPort
        $gone = New-FlagNotificationChannel -Webhook -Uri "http://127.0.0.1:$port/hooks/$($script:Secret)"
        { $n | Send-FlagNotification -Channel $gone -ErrorAction Stop } | Should -Throw -ErrorId 'NotificationFailed,PMS.Flags.Cmdlets.Commands.SendFlagNotificationCommand'
        $delivery = $n | Send-FlagNotification -Channel $gone -ErrorVariable unreachable -ErrorAction SilentlyContinue
        $delivery.Error | Should -BeLike 'unreachable:*'
        "$($unreachable[0])" | Should -Not -Match $script:Secret

        $failed = @(Get-LedgerEvents $sandbox | Where-Object event_type -EQ 'notification_failed')
        $failed.Count | Should -Be 4
        $failed[0].details.status_code | Should -Be 401
        (Get-Content -Raw -LiteralPath $sandbox.LedgerPath) | Should -Not -Match $script:Secret
    }

    It '-WhatIf sends nothing and records nothing' {
        $before = @(Get-NotificationReceived $script:receivers).Count
        $ledger = Get-FileSnapshot $sandbox.LedgerPath
        $n | Send-FlagNotification -Channel (New-FlagNotificationChannel -Webhook -Uri $script:WebhookUri) -WhatIf
        @(Get-NotificationReceived $script:receivers).Count | Should -Be $before
        Get-FileSnapshot $sandbox.LedgerPath | Should -Be $ledger
    }
}

Describe '-Notify on rollouts and rollbacks' -Tag Notifications, Rollback {
    BeforeEach {
        $sandbox = New-FlagSandbox
        Set-NotificationMode $script:receivers ok
    }
    AfterEach {
        Set-NotificationMode $script:receivers ok
        Remove-FlagSandbox $sandbox
    }

    It 'an emergency rollback with a HANGING receiver: the flag is off and recorded first, the notification fails after its timeout, recorded after' {
        Set-NotificationMode $script:receivers hang
        $hook = New-FlagNotificationChannel -Webhook -Uri $script:WebhookUri -TimeoutSec 1
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'incident INC-9' -ApprovalTicket INC-9 -Force -Notify $hook -WarningVariable warnings 3>$null
        $result.FlagOff | Should -BeTrue
        $result.Verified | Should -BeTrue
        (Get-Flag -Flag patient_portal_v2 -Environment production).On | Should -BeFalse

        $events = Get-LedgerEvents $sandbox
        $types = @($events.event_type)
        $rollbackAt = [array]::IndexOf($types, 'emergency_rollback')
        $notifiedAt = [array]::IndexOf($types, 'notification_failed')
        $rollbackAt | Should -BeGreaterOrEqual 0
        $notifiedAt | Should -BeGreaterThan $rollbackAt -Because 'the notification is sent only after the rollback is done and recorded'
        [array]::IndexOf($types, 'feature_flag_toggled') | Should -BeLessThan $notifiedAt
        $failed = $events[$notifiedAt]
        $failed.details.error | Should -Be 'no answer within 1 s'
        $failed.details.event | Should -Be 'rollback'
        [DateTimeOffset]$failed.timestamp | Should -BeGreaterThan $result.CompletedAt
        ($warnings | Out-String) | Should -Match 'was not sent: no answer within 1 s'
        ($warnings | Out-String) | Should -Not -Match $script:Secret
        (Get-NotificationReceived $script:receivers | Where-Object { $_.answer -eq 'hung' -and $_.body.event -eq 'rollback' }).Count | Should -BeGreaterOrEqual 1 -Because 'the receiver did get the request; it just never answered'
    }

    It 'an emergency rollback with a working receiver posts the rollback message and records notification_sent after the rollback' {
        $before = @(Get-NotificationReceived $script:receivers).Count
        $slack = New-FlagNotificationChannel -Slack -Uri $script:SlackUri
        $null = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'p95 above 2 s' -Force -Notify $slack
        $got = @(Get-NotificationReceived $script:receivers | Select-Object -Skip $before)
        $got.Count | Should -Be 1
        $got[0].body.text | Should -BeLike '`[URGENT`] `[PMS`] Feature Rollback: patient_portal_v2*rolled back due to p95 above 2 s.*'
        $types = @((Get-LedgerEvents $sandbox).event_type)
        [array]::IndexOf($types, 'notification_sent') | Should -BeGreaterThan ([array]::IndexOf($types, 'emergency_rollback'))
    }

    It 'a rollout annotates Grafana at the start, at each stage change and at completion (tags flag, environment, event)' {
        $grafana = New-FlagNotificationChannel -Grafana -Uri $script:GrafanaUri -Token (New-TestToken)
        $before = @(Get-NotificationReceived $script:receivers).Count
        $started = Start-FlagRollout -Flag new_reports -Environment production -Stages 25, 100 -BakeTime 0 -Reason 'CHG-8' -ApprovalTicket CHG-8 -NoWait -Notify $grafana
        $actions = @(1..4 | ForEach-Object { (Step-FlagRollout -RolloutId $started.RolloutId -Notify $grafana).Action })
        $actions | Should -Contain 'Advanced'
        $actions | Should -Contain 'Completed'
        $annotations = @(Get-NotificationReceived $script:receivers | Select-Object -Skip $before | Where-Object receiver -EQ grafana)
        @($annotations | ForEach-Object { $_.body.tags[2] }) | Should -Be @('rollout_started', 'stage_advanced', 'rollout_completed')
        foreach ($a in $annotations) {
            $a.answer | Should -Be 200
            $a.body.tags[0] | Should -Be 'new_reports'
            $a.body.tags[1] | Should -Be 'production'
        }
        $annotations[1].body.text | Should -Be '[PMS] Feature Rollout Stage: new_reports at 100% in production'
        @((Get-LedgerEvents $sandbox) | Where-Object event_type -EQ 'notification_sent').Count | Should -Be 3
    }

    It 'Stop-FlagRollout with a receiver answering 500 still stops the rollout; the failure is a warning and an event after the rollback' {
        Set-NotificationMode $script:receivers 500
        $teams = New-FlagNotificationChannel -Teams -Uri $script:TeamsUri
        $started = Start-FlagRollout -Flag new_reports -Environment production -Stages 25, 100 -BakeTime 01:00:00 -Reason 'CHG-10' -ApprovalTicket CHG-10 -NoWait
        $stopped = Stop-FlagRollout -RolloutId $started.RolloutId -Reason 'support tickets' -ApprovalTicket CHG-10 -Force -Notify $teams -WarningVariable warnings 3>$null
        $stopped.Action | Should -Be 'RolledBack'
        (Get-Flag -Flag new_reports -Environment production).On | Should -BeFalse
        ($warnings | Out-String) | Should -Match 'HTTP 500'
        $types = @((Get-LedgerEvents $sandbox).event_type)
        [array]::IndexOf($types, 'notification_failed') | Should -BeGreaterThan ([array]::IndexOf($types, 'rollout_rolled_back'))
    }
}
