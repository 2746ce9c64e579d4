@{
    Synopsis     = 'Aborts a rollout: switches the flag off first, through the emergency-rollback path, then records the rollout as aborted.'
    Description  = @'
Stop-FlagRollout ends a running or paused rollout and takes the feature away from everyone. The flag is switched off
FIRST, through the same emergency-rollback path as Invoke-EmergencyRollback (flag off, audit, verify, timed against
the five-minute budget); once asked, the flag goes off even if the command is interrupted. Then a rollout_rolled_back
event with outcome "aborted", the user, the reason, the percentage before and the time to flag off is recorded, and the
rollout's status becomes Aborted. If another process raced an advance against the stop, the flag is switched off again
afterwards: whichever runs last leaves it off.

Switching off stops harm, so it never waits for paperwork: no approval ticket is needed, and if the ledger can be
read but not written the flag still goes off and the events are spooled. (Stop must read the ledger to find the
rollout; when the ledger cannot be read at all, Invoke-EmergencyRollback switches the flag off without it.) To hold a rollout without taking the feature away,
use Suspend-FlagRollout. Invoke-EmergencyRollback on a flag under rollout ends that rollout too (as RolledBack, cause
emergency_rollback).

Stop-FlagRollout has ConfirmImpact High and asks for confirmation unless -Force or -Confirm:$false is given. Under
GitHub Actions or Azure Pipelines it writes the same annotations and job summary as Step-FlagRollout (an error
annotation "Rollout rolled back").
'@
    Parameters   = @{
        Notify         = 'Notification channels from New-FlagNotificationChannel (Slack, Teams, webhook, Grafana annotations) told AFTER the work is done (after the flag is off): the playbooks rollback message from the ledger. Each send is bounded by its channel''s short timeout; a failed or hanging receiver becomes a warning and a notification_failed audit event, and never changes or delays the result.'
        RolloutId      = 'The rollout to stop, for example ro-20240115T103000Z-3f9a1c (tab completion lists the active ones). Accepts pipeline input by property name, so Get-FlagRollout output can be piped in.'
        Flag           = 'Instead of -RolloutId: the flag whose active rollout to stop. Alias Key. Without an active rollout it writes RolloutNotFound; to switch off a flag that has no rollout, use Disable-Flag or Invoke-EmergencyRollback.'
        Environment    = 'With -Flag: the environment of the rollout. Defaults to the store''s default environment; without one the command fails with EnvironmentRequired.'
        Reason         = 'Why the rollout is aborted, for the audit record and the incident review, for example ''Clinicians report missing appointments''. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'An incident or change ticket to record. Optional: stopping never waits for a ticket. The rollout''s own ticket is recorded when none is given.'
        User           = 'Who stops the rollout, as recorded in the audit events'' user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store, as returned by Connect-FlagStore -NoDefault; defaults to the session''s store. It must be the store the rollout was started on, else RolloutStoreMismatch.'
        Ledger         = 'The audit ledger holding the rollout, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Force          = 'Stops without asking for confirmation. Use it in incident runbooks, alert handlers and pipelines.'
        WhatIf         = 'Names the rollout that would be stopped, and changes and records nothing. Nothing is returned.'
        Confirm        = 'Asks for confirmation before stopping. This is the default for this command (ConfirmImpact High); -Confirm:$false or -Force turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutStepResult' = 'Action RolledBack, Status Aborted, Percentage 0, PreviousPercentage (the stage it was at), Reason (who stopped it, why, and how fast the flag went off), Rollback (the RollbackResult with FlagOffAt, TimeToFlagOff, Verified, WithinSla and the timed steps) and State.'
    }
    Examples     = @(
        @{
            Title   = 'Abort a production rollout'
            Code    = @'
$stop = Stop-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason 'Clinicians report missing appointments' -ApprovalTicket INC-2003 -Force
$stop.Rollback | Format-List FlagOffAt, TimeToFlagOff, Verified, WithinSla
'@
            Remarks = 'The flag is off when the command returns; the rollback result shows how long that took and that it was verified.'
        }
        @{
            Title   = 'Preview which rollout would be stopped'
            Code    = 'Get-FlagRollout -Active -Flag new_billing_engine | Stop-FlagRollout -Reason ''Abandoning the billing rollout'' -WhatIf'
            Remarks = 'Names the rollout by id and changes nothing.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.StopFlagRolloutCommand"): ReasonRequired,
UserRequired, RolloutNotActive (already completed, rolled back or stopped), RolloutNotFound (non-terminating),
RolloutStoreMismatch, RolloutPlanUnreadable, EnvironmentRequired, NoFlagStore, FlagDocumentNotFound,
FlagDocumentMalformed; LedgerMalformed and LedgerTornTail when the ledger cannot be read to find the rollout (nothing
is changed: use Invoke-EmergencyRollback). A ledger that cannot be written does not stop the flag-off: the events are
spooled and written by the next command that can write the ledger.
'@
    RelatedLinks = @('about_PMS.Flags', 'Invoke-EmergencyRollback', 'Suspend-FlagRollout', 'Get-FlagRollout', 'Step-FlagRollout')
}
