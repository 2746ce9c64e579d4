@{
    Synopsis     = 'Creates the pre-deployment checklist of a flag in one environment as ledger events, optionally bound to the exact rollout plan it approves.'
    Description  = @'
New-FlagChecklist records a checklist_created event in the flag's ledger stream for the environment. With -Template
Playbook (the default) the checklist holds every item of the playbook's "Pre-deployment Checklist" under stable names:

  Technical Validation   configuration-reviewed, migrations-tested, rollback-tested-in-staging, staging-validated,
                         performance-assessed, security-review, hipaa-compliance
  Operational Readiness  alerts-configured, rollback-plan-approved, notifications-prepared, maintenance-window,
                         backup-verified
  Documentation          feature-docs-updated, api-docs-updated, training-materials-prepared, support-briefed

Most items are approved by a person with Approve-FlagChecklistItem. Items with machine evidence are checked, not
trusted: rollback-tested-in-staging passes only when the ledger holds a rollback of the flag in staging (an emergency
rollback, a rolled-back rollout, or the flag switched from on to off); staging-validated only when it holds a completed
rollout of the flag in staging; alerts-configured is approved with an alert-rule file or a Prometheus URI whose rules
endpoint holds alerting rules, and that evidence is checked again every time readiness is evaluated.

In a protected environment (production, unless the store was connected with other -ProtectedEnvironment names) the
checklist is four-eyes: its creator cannot approve its items. With -Plan the checklist records the plan's canonical
form and SHA-256 (stages, bake time, guardrails); Start-FlagRollout with any other plan finds the approvals void and
names the field that changed. A new checklist replaces the previous one of the flag in that environment: approvals of
the old one no longer count.

A custom template is a JSON file: {"name": "team-release", "items": [{"name": "security-review", "title": "Security
review completed", "section": "Technical Validation", "check": "approval"}]}. Item names are lower-case letters,
digits and dashes; check is approval (the default), rollback-in-staging, staging-rollout or alert-rules. A template
that is not valid is refused (ChecklistTemplateInvalid) and nothing is written.
'@
    Parameters   = @{
        WhatIf      = 'Shows the template, item count and plan hash the checklist would record, and writes nothing to the ledger.'
        Confirm     = 'Asks for confirmation before recording the checklist_created event.'
        Flag        = 'The feature flag key the checklist is for. Accepts the Flag (or Key) property of piped objects.'
        Environment = 'The environment the flag will be released in, typically production; defaults to the store''s default environment.'
        Template    = 'Playbook (the default: every item of the playbook''s pre-deployment checklist) or the path of a JSON template file with a team''s own items.'
        Plan        = 'The rollout plan the approvals are for: a hashtable with Start-FlagRollout''s Stages, BakeTime and Guardrail (missing ones take Start-FlagRollout''s defaults). Its canonical SHA-256 is recorded; other keys are ignored, so the same hashtable can be splatted into Start-FlagRollout.'
        Reason      = 'Why the checklist is created, for the audit record; defaults to a sentence naming the template and its item count.'
        User        = 'Who creates the checklist, recorded as user_id; defaults to the CI actor or the operating-system user. Under four-eyes this user cannot approve its items.'
        Store       = 'The flag store whose protected-environment list decides four-eyes and whose default environment is used; defaults to the session''s connected store.'
        Ledger      = 'The audit ledger the checklist is written to; defaults to the session''s connected ledger.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Readiness.ReadinessReport' = 'The new checklist evaluated at once: Flag, Environment, ChecklistId, Template, CreatedBy, CreatedAt, FourEyes, PlanHash, Items (one ChecklistItemStatus each), Ready, Verdict, Satisfied and Missing.'
    }
    Examples     = @(
        @{
            Title   = 'Create the playbook''s checklist for a production release'
            Code    = @'
New-FlagChecklist -Flag telehealth_appointments_enabled -Environment production -User release.manager@pms.example.com
'@
            Remarks = 'Records every item of the playbook''s pre-deployment checklist; the report shows NotReady with all items missing until they are approved or their evidence exists.'
        }
        @{
            Title   = 'Bind the approvals to the exact rollout plan'
            Code    = @'
$plan = @{ Stages = 5, 25, 50, 100; BakeTime = '00:30:00'; Guardrail = New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl http://prometheus.monitoring:9090 }
New-FlagChecklist -Flag telehealth_appointments_enabled -Environment production -Plan $plan
Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production @plan -Reason 'Release 4.2' -ApprovalTicket CHG-1042
'@
            Remarks = 'The checklist records the plan''s SHA-256. Start-FlagRollout is refused with FlagNotReady until every item passes, and a rollout with other stages, bake time or guardrails finds the approvals void.'
        }
        @{
            Title   = 'Use a team''s own template'
            Code    = 'New-FlagChecklist -Flag new_billing_engine -Environment production -Template ./release-checklist.json'
            Remarks = 'The file is validated whole first; an unknown check or a duplicate item name is ChecklistTemplateInvalid and nothing is written.'
        }
    )
    Notes        = @'
Error ids (fully qualified "<id>,PMS.Flags.Cmdlets.Commands.NewFlagChecklistCommand"): ChecklistTemplateUnknown,
ChecklistTemplateInvalid, ChecklistPlanInvalid and the rollout plan's own validation ids (RolloutStageOutOfRange, ...),
ChecklistBusy. Nothing is written when any of them is raised.
'@
    RelatedLinks = @('about_PMS.Flags_Rollouts', 'Approve-FlagChecklistItem', 'Test-FlagReadiness', 'Start-FlagRollout')
}
