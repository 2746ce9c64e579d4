@{
    Synopsis     = 'Posts a rendered notification to Slack, Teams, a webhook or Grafana, and records each outcome in the audit ledger.'
    Description  = @'
Send-FlagNotification posts a message from New-FlagNotification to every channel given, at the same time, each in its
service's incoming-webhook format and within the channel's timeout, without retries. Every outcome is recorded in the
ledger as notification_sent or notification_failed, with the channel's name and host (never its URI or token), the event
and, for a failure, the reason (no answer within the timeout, connection refused, or the HTTP status and the receiver's
words). It returns one delivery per channel; a channel that did not take the message also writes a NotificationFailed
error, so -ErrorAction decides whether a script stops.
'@
    Parameters   = @{
        Channel      = 'The channels to post to, from New-FlagNotificationChannel; all are sent to at the same time.'
        Notification = 'The message to post, from New-FlagNotification; it may be piped.'
        User         = 'Who sends, recorded as user_id in the audit events; defaults to the CI actor or the signed-in user.'
        Ledger       = 'The audit ledger the outcomes are recorded in; defaults to the connected ledger.'
        WhatIf       = 'Shows which channels would be posted to, without sending anything.'
        Confirm      = 'Asks for confirmation before posting.'
    }
    Inputs       = @{
        'PMS.Flags.Engine.Notifications.FlagNotification' = 'A message from New-FlagNotification.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Notifications.NotificationDelivery' = 'One per channel: Channel, Kind, Endpoint, Succeeded, StatusCode, Error, Elapsed and AuditSequence.'
    }
    Examples     = @(
        @{
            Title   = 'See where a rollout announcement would go, without sending it'
            Code    = '$hook = New-FlagNotificationChannel -Webhook -Uri http://127.0.0.1:8080/hooks/pms; New-FlagNotification -Template PreRollout -Flag new_billing_engine -Environment staging | Send-FlagNotification -Channel $hook -WhatIf'
            Remarks = 'Names the channel (host only, never the hook path) and the subject; drop -WhatIf to post it. If the receiver is down, the failure is recorded as notification_failed and reported as a NotificationFailed error.'
        }
        @{
            Title   = 'Tell Slack and Teams at once'
            Code    = 'New-FlagNotification -Template RolloutComplete -Flag telehealth_appointments_enabled -Environment production | Send-FlagNotification -Channel $slack, $teams'
            Remarks = 'Both are sent in parallel; each gets its own audit event.'
        }
    )
    Notes        = @'
Error ids: NotificationFailed (the receiver did not take it; recorded as notification_failed).
'@
    RelatedLinks = @('New-FlagNotification', 'New-FlagNotificationChannel', 'Get-FlagAudit', 'about_PMS.Flags')
}
