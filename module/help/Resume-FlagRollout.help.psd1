@{
    Synopsis     = 'Resumes a paused rollout with the bake time it had left when it paused.'
    Description  = @'
Resume-FlagRollout continues a rollout that was paused -- by Suspend-FlagRollout, by a Warning guardrail breach, by a
guardrail without data (the default -NoData Pause) or because the flag drifted from its stage. It records a
rollout_resumed event with the user, the reason, the ticket, the remaining bake time and what caused the pause; from
then on the stage bakes for the time that remained when it paused, not for a fresh -BakeTime.

Resume does not advance the rollout itself and evaluates no guardrail: the next Step-FlagRollout (the schedule, or a
Start-FlagRollout loop) does, with the same rules as before. If the cause of the pause is still there -- the warning
guardrail still breaches, Prometheus is still unreachable -- the next step pauses again, with the new evidence. After a
drift pause, set the flag back to the stage's percentage before resuming, or stop the rollout.

In a protected environment (production by default) resuming needs an approval ticket: -ApprovalTicket, or the ticket
the rollout was started with. Resuming a running rollout changes nothing and returns it as it is; a rollout that has
ended cannot be resumed (RolloutNotActive) -- start a new one.
'@
    Parameters   = @{
        RolloutId      = 'The rollout to resume, for example ro-20240115T103000Z-3f9a1c (tab completion lists the active ones). Accepts pipeline input by property name, so Get-FlagRollout output can be piped in.'
        Flag           = 'Instead of -RolloutId: the flag whose paused rollout to resume. Alias Key. Without an active rollout it writes RolloutNotFound.'
        Environment    = 'With -Flag: the environment of the rollout. Defaults to the store''s default environment; without one the command fails with EnvironmentRequired.'
        Reason         = 'Why it is safe to continue, for the audit record, for example ''Latency regression fixed in 2.14.1''. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'The approval for continuing, for example TICKET-12345. In a protected environment it is required unless the rollout was started with a ticket (ApprovalTicketRequired); that ticket is recorded when none is given.'
        User           = 'Who resumes the rollout, as recorded in the audit event''s user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store, as returned by Connect-FlagStore -NoDefault; defaults to the session''s store. It must be the store the rollout was started on, else RolloutStoreMismatch.'
        Ledger         = 'The audit ledger holding the rollout, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        WhatIf         = 'Names the rollout that would be resumed, and changes and records nothing. Nothing is returned.'
        Confirm        = 'Asks for confirmation before resuming. Resume-FlagRollout has ConfirmImpact Medium.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutState' = 'The rollout after resuming: Status Running, BakeDueAt (now plus the bake time that remained), StageNumber, Percentage and the rest of the folded state.'
    }
    Examples     = @(
        @{
            Title   = 'Continue after a warning pause was investigated'
            Code    = @'
Get-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Active | Format-List Status, PauseCause, PauseReason, RemainingBakeWhenPaused
Resume-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason 'p95 back under 2 s after cache fix' -ApprovalTicket TICKET-12345
Step-FlagRollout -Flag telehealth_appointments_enabled -Environment production
'@
            Remarks = 'Shows why it paused and how much bake time was left, resumes, and steps once at once to see the guardrails now (a scheduled step would do the same a few minutes later).'
        }
        @{
            Title   = 'Resume by rollout id'
            Code    = 'Resume-FlagRollout -RolloutId ro-20240115T103000Z-3f9a1c -Reason ''Change freeze over'''
            Remarks = 'The ticket the rollout was started with covers the resume in production.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.ResumeFlagRolloutCommand"): ReasonRequired,
UserRequired, ApprovalTicketRequired, RolloutNotActive, RolloutNotFound (non-terminating), RolloutStoreMismatch,
RolloutPlanUnreadable, EnvironmentRequired, NoFlagStore, LedgerBusy, LedgerUnwritable, LedgerMalformed, LedgerTornTail,
LockTimeout.
'@
    RelatedLinks = @('about_PMS.Flags', 'Suspend-FlagRollout', 'Step-FlagRollout', 'Get-FlagRollout')
}
