@{
    Synopsis     = 'Records who approved one item of a flag''s pre-deployment checklist, when, and with what evidence.'
    Description  = @'
Approve-FlagChecklistItem appends a checklist_item_approved event to the flag's checklist stream: the item, the
approver (user_id, beside the authenticated principal), the evidence, an optional reason and ticket. It is decided on
what the ledger holds at that moment, so of two people approving one item at once only one succeeds.

It refuses, writing nothing, when the flag has no checklist in the environment (ChecklistNotFound), the item is not on
it (ChecklistItemUnknown), the item was approved already (ChecklistItemAlreadyApproved), the approver created the
checklist in a protected environment (ChecklistFourEyesViolation: four-eyes), or -Evidence is empty
(ChecklistEvidenceRequired). Items with machine evidence are not taken on anyone's word: rollback-tested-in-staging and
staging-validated cannot be approved at all (ChecklistItemNotApprovable; the ledger proves them), and alerts-configured
is approved only when -Evidence is an alert-rule file that holds alert rules or a Prometheus URI whose /api/v1/rules
endpoint has alerting rules loaded (ChecklistEvidenceMissing otherwise). A relative path is recorded as a full path.
'@
    Parameters   = @{
        WhatIf         = 'Shows the item and evidence that would be approved; nothing is checked against the ledger and nothing is written.'
        Confirm        = 'Asks for confirmation before recording the checklist_item_approved event.'
        Flag           = 'The feature flag key whose checklist holds the item. Accepts the Flag (or Key) property of piped objects.'
        Environment    = 'The environment of the checklist, typically production; defaults to the store''s default environment.'
        Item           = 'The stable item name, such as security-review or hipaa-compliance (Test-FlagReadiness lists them). Accepts the Item property of piped objects.'
        Evidence       = 'What backs the approval: a sentence, a ticket or document URI, or a file path. For alerts-configured an alert-rule file or a Prometheus base URI, which is checked for alert rules.'
        Reason         = 'Why the item is approved, for the audit record; defaults to "Approved: <item title>".'
        ApprovalTicket = 'The change ticket the approval belongs to, recorded in the event''s approval_ticket.'
        User           = 'Who approves, recorded as user_id; defaults to the CI actor or the operating-system user. Must differ from the checklist''s creator in a protected environment.'
        Store          = 'The flag store whose default environment is used; defaults to the session''s connected store.'
        Ledger         = 'The audit ledger holding the checklist; defaults to the session''s connected ledger.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Readiness.ChecklistItemStatus' = 'The approved item: Flag, Environment, Item, Title, Section, Evidence (how it is satisfied), State, ApprovedBy, ApprovedAt, EvidenceText, Detail and Satisfied.'
    }
    Examples     = @(
        @{
            Title   = 'A reviewer approves the security review'
            Code    = @'
$null = New-FlagChecklist -Flag telehealth_appointments_enabled -Environment production -User release.manager@pms.example.com
Approve-FlagChecklistItem -Flag telehealth_appointments_enabled -Environment production -Item security-review -Evidence 'https://wiki.pms.example.com/sec/4711' -User security.lead@pms.example.com
'@
            Remarks = 'The creator of a production checklist cannot approve its items; a second person does, and the event records both the asserted user and the authenticated principal.'
        }
        @{
            Title   = 'Approve "alerts configured" with the rule file the rollout relies on'
            Code    = 'Approve-FlagChecklistItem -Flag telehealth_appointments_enabled -Environment production -Item alerts-configured -Evidence ./monitoring/alerts.yml -User sre.oncall@pms.example.com'
            Remarks = 'The file must hold Prometheus alert rules (groups: ... alert:); a Prometheus URI such as http://prometheus.monitoring:9090 works too and is checked against its /api/v1/rules.'
        }
        @{
            Title   = 'Approve several items from one review'
            Code    = @'
'feature-docs-updated', 'api-docs-updated', 'support-briefed' | ForEach-Object {
    Approve-FlagChecklistItem -Flag telehealth_appointments_enabled -Environment production -Item $_ -Evidence 'DOC-88 reviewed' -User docs.lead@pms.example.com
}
'@
            Remarks = 'Each approval is its own audited event.'
        }
    )
    Notes        = @'
Error ids (fully qualified "<id>,PMS.Flags.Cmdlets.Commands.ApproveFlagChecklistItemCommand"): ChecklistNotFound,
ChecklistItemUnknown, ChecklistItemAlreadyApproved, ChecklistFourEyesViolation, ChecklistItemNotApprovable,
ChecklistEvidenceRequired, ChecklistEvidenceInvalid, ChecklistEvidenceMissing, ChecklistBusy. Nothing is written when
any of them is raised.
'@
    RelatedLinks = @('about_PMS.Flags_Rollouts', 'New-FlagChecklist', 'Test-FlagReadiness')
}
