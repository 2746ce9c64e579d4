@{
    Synopsis     = 'The playbook''s emergency rollback: switches a flag off first, then records and verifies it, and times it against the five-minute budget.'
    Description  = @'
Invoke-EmergencyRollback runs the playbook's Emergency Rollback (< 5 minutes) for one flag in one environment, as
ordered, timed steps:

  1. FlagOff - the flag is switched off in the store before anything else: no ledger check, no approval ticket.
  2. Audit   - a feature_flag_toggled event is written to the ledger, or spooled if the ledger is unavailable.
  3. Verify  - the store is read back to confirm the flag is off.

A closing emergency_rollback event records the outcome and every step's status and duration. The result object
reports StartedAt, FlagOffAt, CompletedAt, Duration, TimeToFlagOff, Verified and WithinSla (true when the flag was
verified off within five minutes), with one row per step in Steps.

If the ledger cannot be written, the flag is still switched off: the events are spooled, the command warns, and
AuditSpooled is true; the spool is flushed into the same ledger by the next command that can write it. If
verification fails the command warns and Verified and WithinSla are false.
'@
    Parameters   = @{
        Notify         = 'Notification channels from New-FlagNotificationChannel (Slack, Teams, webhook, Grafana annotations) told AFTER the work is done (after the flag is off and recorded): the playbooks rollback message from the ledger. Each send is bounded by its channel''s short timeout; a failed or hanging receiver becomes a warning and a notification_failed audit event, and never changes or delays the result.'
        Flag           = 'The flag key to roll back. Accepts flag names from the pipeline ("a","b" | Invoke-EmergencyRollback ...) and pipeline input by property name (Flag, or its alias Key); wildcards are refused (FlagWildcardNotAccepted).'
        Environment    = 'The environment to roll back, usually production. Defaults to the store''s default environment (Connect-FlagStore -Environment); without one the command fails with EnvironmentRequired. Accepts pipeline input by property name.'
        Reason         = 'Why the rollback is happening, for the audit record and the incident review, for example ''Error rate above 5% after rollout to 25%''. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'The incident or change ticket to record. Optional: a rollback never waits for a ticket.'
        User           = 'Who is rolling back, as recorded in the audit events'' user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store to change, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store.'
        Ledger         = 'The audit ledger to record the rollback in, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Force          = 'Rolls back without asking for confirmation. Use it in incident runbooks, alert handlers and pipelines.'
        WhatIf         = 'Shows which flag would be switched off and its current state, without changing the flag document or writing to the ledger. Nothing is returned.'
        Confirm        = 'Asks for confirmation before rolling back. This is the default for this command (ConfirmImpact High); -Confirm:$false or -Force turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollbacks.RollbackResult' = 'Flag, Environment, Store, StartedAt, FlagOffAt, CompletedAt, Duration, TimeToFlagOff, Verified, WithinSla, PreviousOn, PreviousPercentage, AuditSequence, AuditSpooled and Steps (Name, Status - Succeeded, Failed or Spooled - StartedAt, Duration, Message).'
    }
    Examples     = @(
        @{
            Title   = 'Roll back a feature in production'
            Code    = @'
$rollback = Invoke-EmergencyRollback -Flag telehealth_appointments_enabled -Environment production -Reason 'Error rate above 5% after rollout to 25%' -ApprovalTicket INC-2001 -Force
$rollback
$rollback.Steps | Format-Table Name, Status, Duration, Message
'@
            Remarks = 'Switches the flag off at once, records and verifies it, and shows how long each step took.'
        }
        @{
            Title   = 'Fail a pipeline step when the rollback missed its budget'
            Code    = @'
$result = Invoke-EmergencyRollback -Flag new_billing_engine -Environment production -Reason 'Alert: p95 latency above 2 s' -Force
if (-not $result.WithinSla) { throw "Rollback not verified within 5 minutes: $($result.Steps | Out-String)" }
'@
            Remarks = 'WithinSla is false when verification failed or took longer than five minutes.'
        }
    )
    Notes        = @'
Error ids: ReasonRequired, EnvironmentRequired, FlagDocumentNotFound, FlagDocumentMalformed, NoFlagStore,
AuditNotRecorded; FlagNotFound and EnvironmentNotFound are non-terminating. A failure to switch the flag off is itself
recorded as an emergency_rollback event with outcome "failed".
'@
    RelatedLinks = @('about_PMS.Flags', 'Disable-Flag', 'Get-FlagAudit', 'Test-FlagAuditChain')
}
