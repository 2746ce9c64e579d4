@{
    Synopsis     = 'Defines where notifications go: a Slack or Teams incoming webhook, a generic JSON webhook, or Grafana annotations.'
    Description  = @'
New-FlagNotificationChannel returns a channel for Send-FlagNotification and for -Notify on Start-FlagRollout,
Step-FlagRollout, Stop-FlagRollout and Invoke-EmergencyRollback. -Slack posts Slack's incoming-webhook body
({"text": ...}); -Teams posts a MessageCard; -Webhook posts a JSON document with event, flag, environment, template,
subject, body and format; -Grafana posts an annotation to POST /api/annotations with the tags flag, environment and event,
so dashboards show exactly when exposure changed.

An incoming webhook's URI is its credential, and the Grafana token is one: both are kept inside the channel and used only
to send. The channel shows, records in the ledger and puts in every message only the scheme and host. A URI over plain
http to a host other than this machine is refused, because the secret would cross the network in clear text. Every send
is bounded by -TimeoutSec (5 s by default), and is not retried, so a receiver that hangs costs at most that.
'@
    Parameters   = @{
        Slack      = 'Makes a Slack channel: -Uri is the incoming webhook URL (https://hooks.slack.com/services/...).'
        Teams      = 'Makes a Microsoft Teams channel: -Uri is the incoming webhook URL of the Teams channel connector.'
        Webhook    = 'Makes a generic webhook channel (the default): -Uri receives a JSON document with event, flag, environment, template, subject, body and format.'
        Grafana    = 'Makes a Grafana annotations channel: -Uri is the Grafana root (or its /api/annotations URL) and -Token a service-account token allowed to write annotations.'
        Uri        = 'The receiver''s address. It is a secret for webhooks (the path carries the credential): it is never shown, logged or recorded beyond its scheme and host. https is required except for this machine.'
        Token      = 'Grafana only: the service-account token, as a SecureString (Read-Host -AsSecureString), sent as a bearer token and never shown or recorded.'
        Name       = 'A name for the channel in messages, warnings and audit events, for example ''#pms-releases''; the default is the kind and host.'
        TimeoutSec = 'How many seconds one send may take before it is abandoned and recorded as failed, 1 to 60; the default is 5.'
    }
    Inputs       = @{
        'None' = 'This cmdlet takes no pipeline input.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Notifications.NotificationChannel' = 'The channel: Kind, Name, Endpoint (scheme and host only), Timeout and HasToken.'
    }
    Examples     = @(
        @{
            Title   = 'A generic webhook for a local receiver'
            Code    = 'New-FlagNotificationChannel -Webhook -Uri http://127.0.0.1:8080/hooks/pms-releases -Name releases -TimeoutSec 3'
            Remarks = 'Shows the channel with its endpoint as http://127.0.0.1:8080/… (the path is never shown).'
        }
        @{
            Title   = 'Annotate Grafana dashboards at every stage change of a rollout'
            Code    = '$grafana = New-FlagNotificationChannel -Grafana -Uri https://grafana.example.com -Token (Read-Host -AsSecureString ''Grafana token''); Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason ''CHG-1234 telehealth'' -ApprovalTicket CHG-1234 -Notify $grafana'
            Remarks = 'Each stage change, the completion or a rollback becomes an annotation tagged with the flag, production and the event.'
        }
    )
    Notes        = @'
Error ids: NotificationChannelInvalid (not an absolute http(s) URI, or a timeout out of range), NotificationChannelInsecure
(plain http to another host), NotificationTokenRequired (Grafana without -Token).
'@
    RelatedLinks = @('Send-FlagNotification', 'New-FlagNotification', 'about_PMS.Flags')
}
