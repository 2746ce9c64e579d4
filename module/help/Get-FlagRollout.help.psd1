@{
    Synopsis     = 'Gets progressive rollouts -- their status, stage, percentage, remaining bake time and latest guardrail values -- as folded from the audit ledger.'
    Description  = @'
Get-FlagRollout reads the audit ledger and folds each rollout's events (rollout_started, rollout_stage_advanced,
guardrail_evaluated, guardrail_breached, rollout_paused, rollout_resumed, rollout_completed, rollout_rolled_back and
the flag changes carrying the rollout id) into its current state. No other record of a rollout exists, so what this
command shows is exactly what the next Step-FlagRollout on any agent will act on. It changes nothing and evaluates no
guardrail; the guardrail values shown are those of the last recorded evaluation.

Without -RolloutId it lists rollouts newest first, optionally only those of one flag and environment, and with -Active
only the running and paused ones (at most one per flag and environment). With -RolloutId it returns that rollout, or a
non-terminating RolloutNotFound error.

The state answers the questions people ask during a rollout: Status (Running, Paused, Completed, RolledBack, Aborted),
StageNumber/StageCount and Percentage, BakeDueAt (when the running stage may advance) or RemainingBakeWhenPaused,
PauseCause and PauseReason (manual, guardrail_breach, no_data or drift), EndCause and EndReason (completed,
guardrail_breach, no_data, stopped, emergency_rollback), DetectionToFlagOff after an automatic rollback, LastEvaluations
and Breaches with their evidence, and Plan with the stages, bake time and guardrail definitions. For the raw events, use
Get-FlagAudit -Flag <flag> | Where-Object RolloutId -eq <id>.
'@
    Parameters   = @{
        RolloutId   = 'The rollout to get, for example ro-20240115T103000Z-3f9a1c (tab completion lists the active ones). Accepts pipeline input by property name. An id the ledger does not know writes a non-terminating RolloutNotFound error.'
        Flag        = 'Lists only the rollouts of this flag. Alias Key. Accepts pipeline input by property name, so Get-Flag output can be piped in.'
        Environment = 'Lists only the rollouts in this environment. Unlike the commands that change a rollout, there is no default: without it every environment is listed. Accepts pipeline input by property name.'
        Active      = 'Lists only running and paused rollouts: the ones Step-FlagRollout, Suspend-FlagRollout, Resume-FlagRollout and Stop-FlagRollout act on.'
        Store       = 'The flag store, as returned by Connect-FlagStore -NoDefault; defaults to the session''s store. Listing reads only the ledger; the store is not called.'
        Ledger      = 'The audit ledger to read, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutState' = 'RolloutId, Flag, Environment, Store, Status, IsActive, StageNumber, StageCount, Percentage, Stages, BakeTime, StageEnteredAt, BakeDueAt, RemainingBakeWhenPaused, PausedAt, PauseCause, PauseReason, StartedAt, StartedBy, EndedAt, EndCause, EndReason, EndedBy, DetectionToFlagOff, LastEvaluations, Breaches, EvaluationCount, EventCount, LastEventAt and Plan. The default table shows RolloutId, Flag, Environment, Status, Stage, Percentage, StartedAt and EndCause.'
    }
    Examples     = @(
        @{
            Title   = 'What is rolling out right now'
            Code    = 'Get-FlagRollout -Active'
            Remarks = 'One row per running or paused rollout, with its stage (for example 2/4) and percentage.'
        }
        @{
            Title   = 'How a rollout went, for the change record'
            Code    = @'
$rollout = Get-FlagRollout -Flag telehealth_appointments_enabled -Environment production | Select-Object -First 1
$rollout | Format-List RolloutId, Status, StageNumber, Percentage, StartedAt, StartedBy, EndedAt, EndCause, EndReason, DetectionToFlagOff
$rollout.Breaches | Format-List Guardrail, Severity, Value, ThresholdText, Evidence
'@
            Remarks = 'The newest rollout of the flag: how it ended, and the metric evidence of any breach.'
        }
        @{
            Title   = 'Every ledger event of one rollout'
            Code    = @'
$rollout = Get-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Active
Get-FlagAudit -Flag telehealth_appointments_enabled | Where-Object RolloutId -eq $rollout.RolloutId |
    Format-Table Sequence, Timestamp, EventType, Outcome, RolloutPercentage, Reason
'@
            Remarks = 'The events the state is folded from: the start, each stage and flag change, every guardrail evaluation, pauses, resumes and the end.'
        }
        @{
            Title   = 'When may a running rollout advance'
            Code    = 'Get-FlagRollout -Active | Format-Table Flag, Environment, StageNumber, Percentage, BakeDueAt, PauseCause'
            Remarks = 'BakeDueAt is when the running stage has baked; a paused rollout shows its PauseCause instead.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.GetFlagRolloutCommand"): RolloutNotFound
(non-terminating), RolloutIdRequired, RolloutPlanUnreadable (the rollout's events in the ledger cannot be folded),
LedgerMalformed, LedgerTornTail, NoFlagStore.
'@
    RelatedLinks = @('about_PMS.Flags', 'Start-FlagRollout', 'Step-FlagRollout', 'Get-FlagAudit')
}
