@{
    Synopsis     = 'Pauses a running rollout at its current stage, keeping the bake time it has left, until Resume-FlagRollout.'
    Description  = @'
Suspend-FlagRollout holds a rollout where it is: the flag stays at the current stage's percentage, no step advances it,
and the bake time that remained is kept for when it resumes. A rollout_paused event with cause "manual", the remaining
bake time, the user, the reason and the ticket is recorded in the ledger, so every agent sees the pause at once.

Use it when something outside the guardrails needs a look -- a support ticket spike, a dependency incident, a change
freeze. A pause is not a rollback: users keep the feature at the current percentage. To take it away, use
Stop-FlagRollout (or Invoke-EmergencyRollback).

While paused, Step-FlagRollout still evaluates the guardrails and still rolls back on a Critical breach, because users
are still exposed; it never advances a paused rollout. Guardrails pause rollouts by themselves too: a Warning breach or
a guardrail without data (the default -NoData Pause) records a pause with cause guardrail_breach or no_data.

Suspending a rollout that is already paused changes nothing and returns it as it is. A rollout that has completed,
rolled back or been stopped cannot be suspended (RolloutNotActive).
'@
    Parameters   = @{
        RolloutId      = 'The rollout to pause, for example ro-20240115T103000Z-3f9a1c (tab completion lists the active ones). Accepts pipeline input by property name, so Get-FlagRollout output can be piped in.'
        Flag           = 'Instead of -RolloutId: the flag whose active rollout to pause. Alias Key. Without an active rollout it writes RolloutNotFound.'
        Environment    = 'With -Flag: the environment of the rollout. Defaults to the store''s default environment; without one the command fails with EnvironmentRequired.'
        Reason         = 'Why the rollout is paused, for the audit record and for whoever resumes it, for example ''Support tickets up after 25%''. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'A ticket to record with the pause, for example an incident number. Optional; the rollout''s own ticket is recorded when none is given.'
        User           = 'Who pauses the rollout, as recorded in the audit event''s user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store, as returned by Connect-FlagStore -NoDefault; defaults to the session''s store. It must be the store the rollout was started on, else RolloutStoreMismatch.'
        Ledger         = 'The audit ledger holding the rollout, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        WhatIf         = 'Names the rollout that would be paused, and changes and records nothing. Nothing is returned.'
        Confirm        = 'Asks for confirmation before pausing. Suspend-FlagRollout has ConfirmImpact Medium.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutState' = 'The rollout after the pause: Status Paused, PausedAt, PauseCause (manual), PauseReason, RemainingBakeWhenPaused, StageNumber, Percentage and the rest of the folded state.'
    }
    Examples     = @(
        @{
            Title   = 'Hold a production rollout during an incident'
            Code    = 'Suspend-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason ''Support ticket spike, investigating'' -ApprovalTicket INC-2002'
            Remarks = 'The flag stays at its current percentage; scheduled steps keep watching the guardrails but do not advance it.'
        }
        @{
            Title   = 'Pause every active rollout before a change freeze'
            Code    = 'Get-FlagRollout -Active | Suspend-FlagRollout -Reason ''Change freeze from Friday 18:00'''
            Remarks = 'Each rollout keeps its remaining bake time; Resume-FlagRollout continues it after the freeze.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.SuspendFlagRolloutCommand"): ReasonRequired,
UserRequired, RolloutNotActive (the rollout has ended), RolloutNotFound (non-terminating), RolloutStoreMismatch,
RolloutPlanUnreadable, EnvironmentRequired, NoFlagStore, LedgerBusy (other writers kept moving the ledger; nothing was
recorded -- run it again), LedgerUnwritable, LedgerMalformed, LedgerTornTail, LockTimeout.
'@
    RelatedLinks = @('about_PMS.Flags', 'Resume-FlagRollout', 'Step-FlagRollout', 'Stop-FlagRollout', 'Get-FlagRollout')
}
