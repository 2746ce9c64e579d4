@{
    Synopsis     = 'Moves a progressive rollout on by at most one thing -- advance, complete, pause, roll back or wait -- and returns an object saying which: the command for schedulers and CI.'
    Description  = @'
Step-FlagRollout is how a rollout progresses when no pwsh sits waiting for hours: a scheduler (a GitHub Actions or
Azure Pipelines schedule, cron, a Kubernetes CronJob) runs it every few minutes. Each run folds the rollout's state from
the ledger, evaluates every guardrail once, records each evaluation (guardrail_evaluated, with the values and the For
tracking), and then does at most one thing, in this order of precedence:

  RolledBack  a Critical guardrail has breached (or cannot judge under -NoData Fail). The flag is switched off FIRST, through the emergency-rollback path -- no ledger read, no ticket, no cancellation in front of it -- and only then are the evidence (query, threshold, breaching series and values) and rollout_rolled_back recorded. DetectionToFlagOff says how long that took. This applies to a paused rollout too, because users are still exposed at its stage.
  NoAction    the rollout is paused (only Resume-FlagRollout continues it), or already over, or another process acted on it while this one was deciding.
  Paused      a Warning guardrail has breached; or a guardrail cannot judge (no data) under the default -NoData Pause, or its source is unreachable; or, when it is about to advance, the flag no longer matches the stage (someone changed it by hand: "drift"). Nothing advances blind.
  Waiting     a guardrail is Pending (its condition holds but not yet for its -For), or bake time remains, or another process is making the current stage's flag change. RemainingBake says how long is left.
  Advanced    the stage has baked its full -BakeTime with every guardrail healthy: the next stage is claimed in the ledger and the flag set to its percentage. Its bake time starts now.
  Completed   the last stage has baked with every guardrail healthy: the rollout is done and the flag stays there.

It is idempotent: run it again and nothing changes until time passes or the metrics change. Two processes stepping the
same rollout at once produce exactly one advance: a decision is appended to the ledger only if the ledger has not moved
since the state was read, and the loser re-reads and reports NoAction. A stage whose flag change was claimed but never
made (the deciding process died in between) is made by the next step once two minutes have passed.

Guardrails work like Prometheus alerts. A query that returns several series breaches when any one of them does, and
-For counts across steps, so a breach is acted on at the first step after it has held for -For: schedule steps more
often than the guardrails' -For for fast detection. Note the playbook's HighErrorRate expression is 5xx per second,
not a ratio, and returns no series until a 5xx exists -- without -MinimumTrafficQuery that is no data and pauses
(see New-FlagGuardrail).

CI-native output. Under GitHub Actions (GITHUB_ACTIONS=true) the step appends a Markdown summary to the file named by
$env:GITHUB_STEP_SUMMARY -- a heading with the flag, environment and action, the rollout's status, stage, percentage
and remaining bake time, the reason, and a table of the guardrails with severity, status, value and threshold -- and
prints workflow commands: "::error title=Guardrail breached: <name>::<evidence>" for each Critical breach,
"::warning title=..." for each Warning breach, "::error title=Rollout rolled back::..." after a rollback and
"::warning title=Rollout paused::..." after a pause. Under Azure Pipelines (TF_BUILD=True) the same lines are written as
"##vso[task.logissue type=error]..." and "##vso[task.logissue type=warning]...". They go to the host (like Write-Host),
so they reach the job log; outside CI nothing extra is printed. A pause or rollback is also a PowerShell warning.

The result is the one thing a script branches on: fail the pipeline on RolledBack, notify on Paused, do nothing on
Waiting.
'@
    Parameters   = @{
        Notify         = 'Notification channels from New-FlagNotificationChannel (Slack, Teams, webhook, Grafana annotations) told AFTER the work is done: a stage change, the completion or a rollback this step made (waiting and pausing are not announced). Each send is bounded by its channel''s short timeout; a failed or hanging receiver becomes a warning and a notification_failed audit event, and never changes or delays the result.'
        RolloutId   = 'The rollout to step, for example ro-20240115T103000Z-3f9a1c (tab completion lists the active ones). Accepts pipeline input by property name, so Get-FlagRollout -Active | Step-FlagRollout steps every active rollout.'
        Flag        = 'Instead of -RolloutId: the flag whose active (running or paused) rollout to step. Without one it writes RolloutNotFound. Alias Key.'
        Environment = 'With -Flag: the environment of the rollout. Defaults to the store''s default environment; without one the command fails with EnvironmentRequired.'
        User        = 'Who performs the step, as recorded in the audit events'' user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL (so a pipeline records who triggered it), then the operating-system user name.'
        Store       = 'The flag store, as returned by Connect-FlagStore -NoDefault; defaults to the session''s store. It must be the store the rollout was started on (the same feature_flags.json path or LaunchDarkly project), else RolloutStoreMismatch.'
        Ledger      = 'The audit ledger holding the rollout, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger ($env:PMS_FLAGS_LEDGER, see Connect-FlagLedger) -- in CI, point PMS_FLAGS_LEDGER at a ledger that outlives the run.'
        WhatIf      = 'Names the rollout that would be stepped and does nothing else: no guardrail is evaluated, nothing is recorded, nothing is returned. Use Start-FlagRollout -WhatIf or Test-FlagGuardrail to see values.'
        Confirm     = 'Asks for confirmation before stepping. Step-FlagRollout has ConfirmImpact Low, so it never asks unless you pass -Confirm.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Rollouts.RolloutStepResult' = 'What the step did: RolloutId, Flag, Environment, Action (Advanced, Completed, Waiting, Paused, RolledBack, NoAction), Reason (a sentence with the numbers), Status after the step, StageNumber, StageCount, Percentage (0 after a rollback), PreviousPercentage, RemainingBake, Guardrails (this step''s GuardrailResult objects), Rollback (the RollbackResult after a rollback), DetectionToFlagOff, At and State (the full RolloutState).'
    }
    Examples     = @(
        @{
            Title   = 'A scheduled CI step (GitHub Actions or Azure Pipelines)'
            Code    = @'
$ErrorActionPreference = 'Stop'
Import-Module ./out/PMS.Flags/PMS.Flags.psd1
Connect-FlagStore -Path ./apps/backend/config/feature_flags.json | Out-Null
$result = Step-FlagRollout -Flag telehealth_appointments_enabled -Environment production
$result | Format-List Action, Status, StageNumber, Percentage, RemainingBake, Reason
if ($result.Action -eq 'RolledBack') { exit 1 }
'@
            Remarks = 'The body of the scheduled job in examples/ci/github-actions.yml and examples/ci/azure-pipelines.yml. PMS_FLAGS_LEDGER points at a ledger that outlives the run. The module writes the job summary and the ::error::/::warning:: (or ##vso) lines itself; the exit code fails the run after a rollback.'
        }
        @{
            Title   = 'Step every active rollout'
            Code    = 'Get-FlagRollout -Active | Step-FlagRollout'
            Remarks = 'Each rollout is stepped on its own; the table shows each one''s action, stage, percentage and remaining bake time.'
        }
        @{
            Title   = 'See why a rollout is not moving'
            Code    = @'
$step = Step-FlagRollout -Flag telehealth_appointments_enabled -Environment production
$step.Reason
$step.Guardrails | Format-Table Guardrail, Severity, Status, Value, ThresholdText, Reason
'@
            Remarks = 'Reason says, for example, "Baking stage 2/4 (25%): 12m30s left; 2 guardrail(s) healthy" or names the guardrail that is pending, breached or without data.'
        }
        @{
            Title   = 'A cron loop on an operations host'
            Code    = @'
while ($true) {
    $step = Step-FlagRollout -Flag new_billing_engine -Environment production
    if ($step.Status -ne 'Running') { $step; break }
    Start-Sleep -Seconds 60
}
'@
            Remarks = 'Steps once a minute until the rollout completes, pauses or rolls back. Any other process may step the same rollout meanwhile; they never double an advance.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.StepFlagRolloutCommand"): RolloutNotFound
(non-terminating: no such rollout id, or no active rollout of the flag), RolloutStoreMismatch (the session's store is
not the rollout's), RolloutIdRequired, RolloutPlanUnreadable (the ledger's events for the rollout cannot be folded),
EnvironmentRequired, NoFlagStore, LedgerBusy, LedgerUnwritable, LedgerMalformed, LedgerTornTail, LockTimeout.
A guardrail query that Prometheus rejects during a step is NOT an error: that guardrail is recorded with status Error
and its -NoData policy decides (a rollout never advances on it). If the store refuses the automatic rollback's flag-off,
the attempt and the evidence are recorded, the rollout stays running so the next step tries again, and the store's
error is raised.
'@
    RelatedLinks = @('about_PMS.Flags', 'Start-FlagRollout', 'Get-FlagRollout', 'Resume-FlagRollout', 'Stop-FlagRollout', 'New-FlagGuardrail')
}
