@{
    Synopsis     = 'Renders the playbook''s rollout and rollback messages, filled with real values from the plan and the audit ledger.'
    Description  = @'
New-FlagNotification fills one of the playbook's communication templates and returns the message; it sends nothing
(pipe it to Send-FlagNotification). PreRollout is the playbook's "Pre-rollout Notification": the timeline lists the
start and every stage at its earliest time (start plus one bake time per earlier stage), from -Stages/-BakeTime/-StartTime
or from a started rollout given with -Rollout. Rollback is the playbook's "Rollback Notification", read from the ledger:
the latest emergency rollback or rolled-back rollout of the flag gives when the feature was disabled, the reason, the
actions taken (read-back verification, restarted deployment, rollouts ended, the ledger record), the current status and
the ticket. RolloutComplete is a completion message in the same voice, with the time each stage reached users.

-TemplatePath takes a team's own template written in the playbook's notation: [FEATURE_NAME], [ENVIRONMENT], [REASON],
[TIME], [START_TIME], [TIMELINE], [STAGES], [BAKE_TIME], [PERCENTAGE], [DURATION], [STATUS], [ADDITIONAL_ACTIONS],
[NEXT_STEPS], [TICKET_LINK], [DASHBOARD_LINK] and [CONTACT_INFO]; [PMS] and [URGENT] are kept as text. A first line
"Subject: ..." becomes the subject. A placeholder PMS.Flags cannot fill is refused (NotificationPlaceholderUnknown)
rather than sent to a team with the brackets in it. -Format Markdown makes the subject and section headings bold.
'@
    Parameters   = @{
        Template       = 'Which message: PreRollout (the timeline of a planned or started rollout), Rollback (the latest rollback of the flag, from the ledger) or RolloutComplete (the latest completed rollout, from the ledger).'
        Flag           = 'The feature flag the message is about; not needed when a rollout is piped in with -Rollout.'
        Environment    = 'The environment of the flag, for example production; defaults to the connected store''s default environment.'
        Rollout        = 'A started rollout (from Start-FlagRollout -NoWait or Get-FlagRollout) whose plan and start time give the PreRollout timeline, or whose flag and environment the ledger is searched for.'
        Stages         = 'PreRollout without -Rollout: the stage percentages of the planned rollout; the default is the playbook''s 5, 25, 50, 100.'
        BakeTime       = 'PreRollout without -Rollout: how long each stage bakes before the next, which spaces the timeline; the default is 30 minutes.'
        StartTime      = 'PreRollout without -Rollout: when the rollout will start; the default is now. Times are shown in UTC.'
        Reason         = 'PreRollout without -Rollout: why the rollout is made, filled into [REASON] for templates that use it.'
        ApprovalTicket = 'PreRollout without -Rollout: the change ticket, filled into [TICKET_LINK].'
        DashboardUrl   = 'The monitoring dashboard people should watch, filled into [DASHBOARD_LINK]; "(not given)" without it.'
        Contact        = 'Who to call for a rollback, filled into [CONTACT_INFO]; "(not given)" without it.'
        NextSteps      = 'Rollback: what happens next, filled into [NEXT_STEPS]; without it the message says the flag stays off until the cause is found.'
        TemplatePath   = 'A text file holding a team''s own template in the playbook''s [PLACEHOLDER] notation, used instead of the built-in text of -Template.'
        Format         = 'Text (as the playbook writes it) or Markdown (bold subject and section headings, for chat channels).'
        Store          = 'The flag store whose default environment is used when -Environment is not given.'
        Ledger         = 'The audit ledger the Rollback and RolloutComplete messages are read from; defaults to the connected ledger.'
    }
    Inputs       = @{
        'PMS.Flags.Engine.Rollouts.RolloutState' = 'A rollout from Start-FlagRollout -NoWait or Get-FlagRollout.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Notifications.FlagNotification' = 'The rendered message: Subject, Body, Format, Template, Event, Flag and Environment.'
    }
    Examples     = @(
        @{
            Title   = 'Announce a planned production rollout'
            Code    = 'New-FlagNotification -Template PreRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 25, 50, 100 -BakeTime 00:30:00 -StartTime ''2025-01-15T10:00:00Z'' -DashboardUrl https://grafana.example.com/d/pms -Contact ''on-call: +1 555 0100'''
            Remarks = 'The timeline lists 10:00 for 5%, 10:30 for 25%, 11:00 for 50% and 11:30 for 100%.'
        }
        @{
            Title   = 'Tell Slack about the last rollback, in Markdown'
            Code    = '$slack = New-FlagNotificationChannel -Slack -Uri $env:SLACK_WEBHOOK_URI; New-FlagNotification -Template Rollback -Flag new_billing_engine -Environment production -Format Markdown | Send-FlagNotification -Channel $slack'
            Remarks = 'Reads when the flag went off, why, and what was done from the ledger, and posts the message to the Slack incoming webhook.'
        }
    )
    Notes        = @'
Error ids: NotificationTemplateUnknown, NotificationTemplateUnreadable, NotificationPlaceholderUnknown (the template uses
a placeholder that cannot be filled; nothing is rendered), NotificationNothingToReport (the ledger has no rollback or
completed rollout of the flag), FlagRequired.
'@
    RelatedLinks = @('Send-FlagNotification', 'New-FlagNotificationChannel', 'Start-FlagRollout', 'Invoke-EmergencyRollback', 'about_PMS.Flags')
}
