@{
    Synopsis     = 'Starts a progressive rollout of a flag (for example 5% -> 25% -> 50% -> 100%), baking each stage while guardrails watch, and rolls back on a critical breach.'
    Description  = @'
Start-FlagRollout automates the playbook's Step 4 and Step 5 (Monitoring and Validation; Progressive Rollout): raise a
flag through -Stages, wait -BakeTime at each stage while -Guardrail checks the metrics, and roll back when they go bad.

The rollout lives in the audit ledger. Start records a rollout_started event holding the whole plan -- flag,
environment, stages, bake time, guardrail definitions, reason, ticket, user -- and every later decision is another
event: rollout_stage_advanced, guardrail_evaluated (with the measured values), guardrail_breached, rollout_paused,
rollout_resumed, rollout_completed, rollout_rolled_back. A rollout's state is folded from those events every time a
command looks at it; no process holds it in memory. So a rollout started on a laptop can be continued by
Step-FlagRollout in a scheduled pipeline on another agent, or after the starting pwsh was killed, as long as that
process reads the same ledger and connects the same store (the same feature_flags.json path or the same LaunchDarkly
project; another store fails with RolloutStoreMismatch). There is at most one active (running or paused) rollout per
flag and environment.

What Start does, in order, changing nothing until the last two steps:
  1. validates the plan (stages above 0 and at most 100, strictly increasing, at most three decimals; bake time not negative; guardrails valid and uniquely named; a reason; an approval ticket in a protected environment);
  2. refuses if the flag already has an active rollout, or is already on above the first stage;
  3. evaluates every guardrail once: a query Prometheus rejects fails here with PrometheusQueryRejected, before any change; a guardrail that is unhealthy right now only warns (check with -WhatIf first);
  4. records rollout_started, then enters stage 1: the stage is claimed in the ledger and the flag is set to its percentage (a feature_flag_toggled event carrying the rollout id). The bake time starts when the flag change is made.

Without -NoWait the command then drives the rollout itself: it steps it every -PollInterval (sooner when the bake time
is about to end), showing Write-Progress with the stage, the percentage, the remaining bake time and the latest
guardrail values, and returns the final state when the rollout completes, rolls back or pauses. Each step does exactly
what Step-FlagRollout does. Every decision is in the ledger before the next wait, and a stage once claimed is applied
even if Ctrl+C arrives, so Ctrl+C never leaves a half-applied change: it leaves a running rollout that
Step-FlagRollout (or a later Resume-FlagRollout, if it was paused) continues from any process.

With -NoWait it returns after entering stage 1; schedule Step-FlagRollout (see examples/ci/github-actions.yml and
examples/ci/azure-pipelines.yml) to move it on. That is the way to run rollouts that take hours.

The rules every step applies are Step-FlagRollout's: a Critical guardrail breach rolls back at once -- the flag is
switched off FIRST through the emergency-rollback path, then the evidence (query, values, threshold, series) is
recorded with the time from detection to flag off; a Warning breach pauses; a guardrail without data pauses by default
(never a silent advance); a Pending guardrail or remaining bake time waits; otherwise the rollout advances, and after
the last stage has baked it completes. A rollback always leaves the flag off, whatever it was before the rollout.

-WhatIf prints the plan and changes nothing, records nothing: the timeline (each stage's percentage, earliest start and
bake time), the minimum total duration (stages x bake time), and each guardrail's current value against its threshold
with its status. It validates exactly as a real start does, so it also reports RolloutAlreadyActive,
ApprovalTicketRequired or PrometheusQueryRejected before you commit.

Under GitHub Actions or Azure Pipelines the driving loop also writes annotations and a job summary for each step (see
Step-FlagRollout).
'@
    Parameters   = @{
        OverrideReadiness = 'In a protected environment, start although the checklist does not pass or was approved for a different plan (FlagNotReady otherwise). -Reason is recorded in a readiness_overridden event before the first stage; the policy applied is in every event of the start.'
        Notify         = 'Notification channels from New-FlagNotificationChannel (Slack, Teams, webhook, Grafana annotations) told AFTER the work is done: the pre-rollout message at the start, a message or annotation at every stage change, the completion or rollback message at the end. Each send is bounded by its channel''s short timeout; a failed or hanging receiver becomes a warning and a notification_failed audit event, and never changes or delays the result.'
        Flag           = 'The flag key to roll out, for example telehealth_appointments_enabled. Accepts pipeline input by property name (Flag, or its alias Key). A flag that does not exist writes a non-terminating FlagNotFound error.'
        Environment    = 'The environment to roll out in, usually production. Defaults to the store''s default environment (Connect-FlagStore -Environment); without one the command fails with EnvironmentRequired. Accepts pipeline input by property name.'
        Stages         = 'The percentages to expose the flag to, in order. Default 5,25,50,100 (the playbook''s). Each must be above 0 and at most 100 (RolloutStageOutOfRange), with at most three decimals (PercentageTooPrecise), strictly increasing (RolloutStagesNotIncreasing). The last stage need not be 100.'
        BakeTime       = 'How long each stage must run with every guardrail healthy before the next, as a TimeSpan (default 00:30:00; the playbook says 30-60 minutes). The time counts from the moment the stage''s flag change was made; a pause keeps what remained of it. Zero is allowed (guardrails still gate each advance); negative fails with RolloutBakeTimeNegative.'
        Guardrail      = 'The checks that gate every advance, from New-FlagGuardrail (for example the HighErrorRate and SlowResponseTime presets). Each needs a distinct name (GuardrailNameDuplicate). Their definitions are stored in the ledger, so any process can evaluate them later. Without guardrails a rollout advances on bake time alone.'
        Reason         = 'Why the rollout is happening, for the audit record of every event it writes, for example ''Telehealth GA - TICKET-12345''. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'The change-approval ticket, for example TICKET-12345. Required in protected environments (production by default), else ApprovalTicketRequired. It is recorded with every event of the rollout and also covers a later Resume-FlagRollout.'
        Rule           = 'For a LaunchDarkly store: the targeting rule whose percentage rollout to drive instead of the default (fallthrough) rule. The local feature_flags.json store has no rules and ignores it.'
        NoWait         = 'Returns as soon as stage 1 is entered, instead of driving the rollout to its end. Use it when a scheduler runs Step-FlagRollout.'
        PollInterval   = 'While driving (without -NoWait), how often the rollout is stepped and its guardrails evaluated; default 00:00:30. Keep it shorter than the guardrails'' -For so that a breach is noticed promptly. Must be positive, else RolloutPollIntervalInvalid.'
        User           = 'Who starts the rollout, as recorded in the audit events'' user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store to change, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store. Later commands must act on the rollout through the same store.'
        Ledger         = 'The audit ledger that holds the rollout, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger). Every process that steps the rollout must use the same ledger.'
        WhatIf         = 'Prints the plan -- the timeline, the minimum total duration and each guardrail''s current value against its threshold -- after validating it as a real start would, and changes and records nothing. Nothing is returned.'
        Confirm        = 'Asks for confirmation before starting the rollout.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutState' = 'The rollout as folded from the ledger: RolloutId, Flag, Environment, Store, Status (Running, Paused, Completed, RolledBack, Aborted), StageNumber, StageCount, Percentage, Stages, BakeTime, StageEnteredAt, BakeDueAt, PausedAt, PauseCause, PauseReason, StartedAt, StartedBy, EndedAt, EndCause, EndReason, DetectionToFlagOff, LastEvaluations, Breaches, EvaluationCount and Plan (with the guardrail definitions). With -NoWait the state after entering stage 1; otherwise the state when the rollout completed, rolled back or paused.'
    }
    Examples     = @(
        @{
            Title   = 'Preview the plan: timeline, duration and guardrails now'
            Code    = @'
$prometheus = 'http://prometheus.monitoring:9090'
$guardrails = @(
    New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheus -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1
    New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $prometheus
)
Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5,25,50,100 -BakeTime 00:30:00 `
    -Guardrail $guardrails -Reason 'Telehealth general availability' -ApprovalTicket TICKET-12345 -WhatIf
'@
            Remarks = 'Prints each stage with its earliest start (+0:00, +30:00, +1:00:00, +1:30:00), the minimum total duration (2:00:00), and each guardrail''s current value against its threshold. Nothing is changed or recorded.'
        }
        @{
            Title   = 'Start a rollout and let a scheduler drive it'
            Code    = @'
$guardrails = @(
    New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl http://prometheus.monitoring:9090 -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1
    New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl http://prometheus.monitoring:9090
)
$rollout = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5,25,50,100 -BakeTime 00:45:00 `
    -Guardrail $guardrails -Reason 'Telehealth general availability' -ApprovalTicket TICKET-12345 -NoWait
$rollout.RolloutId
'@
            Remarks = 'The flag is at 5% when this returns. A scheduled Step-FlagRollout (examples/ci/github-actions.yml, examples/ci/azure-pipelines.yml) advances it every 45 minutes while the guardrails stay healthy.'
        }
        @{
            Title   = 'Drive a short staging rollout from this session'
            Code    = @'
$health = New-FlagGuardrail -HealthUrl https://staging.pms.example.com/health -MaximumLatencySeconds 2
$final = Start-FlagRollout -Flag new_scheduler -Environment staging -Stages 10,50,100 -BakeTime 00:05:00 -PollInterval 00:00:15 `
    -Guardrail $health -Reason 'Scheduler rewrite - staging soak'
$final | Format-List RolloutId, Status, Percentage, EndCause, EndReason
'@
            Remarks = 'Runs for at least 15 minutes with a progress bar, checking the health endpoint every 15 seconds. Ctrl+C stops waiting but leaves the rollout running; Step-FlagRollout -Flag new_scheduler -Environment staging continues it.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.StartFlagRolloutCommand"). Nothing is changed or
recorded when any of these is raised before the rollout_started event:
  Plan: RolloutStagesRequired, RolloutStageOutOfRange, RolloutStagesNotIncreasing, PercentageTooPrecise,
  RolloutBakeTimeNegative, RolloutPollIntervalInvalid, ReasonRequired, EnvironmentRequired, ApprovalTicketRequired,
  GuardrailNameDuplicate, and the Guardrail* validation ids of New-FlagGuardrail.
  State: RolloutAlreadyActive (one active rollout per flag and environment), RolloutFlagAboveFirstStage,
  RolloutIdInUse, PrometheusQueryRejected (a guardrail's query is malformed).
  Store and ledger: NoFlagStore, FlagDocumentNotFound, FlagDocumentMalformed, LedgerUnwritable, LedgerMalformed,
  LedgerTornTail, LockTimeout, LedgerBusy (other writers kept moving the ledger; nothing was started -- run it again).
  FlagNotFound and EnvironmentNotFound are non-terminating.
If setting the first stage fails after rollout_started was recorded, the command warns and fails; the next
Step-FlagRollout applies the stage again after a two-minute grace, or Stop-FlagRollout abandons the rollout.
'@
    RelatedLinks = @('about_PMS.Flags', 'Step-FlagRollout', 'Get-FlagRollout', 'New-FlagGuardrail', 'Suspend-FlagRollout', 'Stop-FlagRollout')
}
