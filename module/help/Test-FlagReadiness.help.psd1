@{
    Synopsis     = 'Reports every item of a flag''s pre-deployment checklist in one environment and whether the flag is ready to be exposed there.'
    Description  = @'
Test-FlagReadiness folds the flag's checklist from the ledger and evaluates each item now. An approved item is
Approved; an unapproved one Pending. Machine-evidence items are checked every time: rollback-tested-in-staging and
staging-validated are Checked when the ledger holds the rollback or completed rollout of the flag in staging, Missing
otherwise; an approved alerts-configured is Missing when its rule file or Prometheus rules endpoint no longer holds
alert rules. With -Plan, approvals of a checklist made for another plan are Void, a warning names the fields that
changed, and PlanChanges lists them.

The verdict is Ready when every item is satisfied, NotReady otherwise, and NoChecklist when the flag has no checklist
there. This is the same evaluation the readiness gate makes before Start-FlagRollout, Set-FlagPercentage above 0 and
Enable-Flag in a protected environment. It reads only; nothing is written.
'@
    Parameters   = @{
        Flag        = 'The feature flag key whose checklist is evaluated. Accepts the Flag (or Key) property of piped objects.'
        Environment = 'The environment of the checklist, typically production; defaults to the store''s default environment.'
        Plan        = 'The rollout plan about to be started, as a hashtable with Stages, BakeTime and Guardrail; approvals made for a different plan are reported Void.'
        Store       = 'The flag store whose default environment is used; defaults to the session''s connected store.'
        Ledger      = 'The audit ledger holding the checklist and the staging evidence; defaults to the session''s connected ledger.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Readiness.ReadinessReport' = 'Flag, Environment, ChecklistId, Template, CreatedBy, CreatedAt, FourEyes, PlanHash, PlanChanges, Items (ChecklistItemStatus: Item, Title, Section, Evidence, State, ApprovedBy, ApprovedAt, EvidenceText, Detail), Ready, Verdict, Satisfied and Missing.'
    }
    Examples     = @(
        @{
            Title   = 'See what still stands between a flag and production'
            Code    = @'
$null = New-FlagChecklist -Flag telehealth_appointments_enabled -Environment production
Test-FlagReadiness -Flag telehealth_appointments_enabled -Environment production | Select-Object -ExpandProperty Items
'@
            Remarks = 'One row per item with its state, approver and detail; the items with machine evidence say what the ledger lacks.'
        }
        @{
            Title   = 'Check a plan before starting it'
            Code    = @'
$plan = @{ Stages = 10, 50, 100; BakeTime = '01:00:00' }
$report = Test-FlagReadiness -Flag telehealth_appointments_enabled -Environment production -Plan $plan
if (-not $report.Ready) { $report.Missing; $report.PlanChanges }
'@
            Remarks = 'PlanChanges names the fields (stages, bake_time, guardrails) in which the plan differs from the approved one.'
        }
    )
    RelatedLinks = @('about_PMS.Flags_Rollouts', 'New-FlagChecklist', 'Approve-FlagChecklistItem', 'Start-FlagRollout')
}
