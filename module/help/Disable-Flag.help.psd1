@{
    Synopsis     = 'Switches a feature flag off in one environment at once, then records it in the audit ledger.'
    Description  = @'
Disable-Flag switches a flag off: a plain true becomes false, and a partial rollout keeps its rollout_percentage with
"enabled": false, so Enable-Flag can restore it later.

Switching off stops harm, so it is the one change that never waits for paperwork or for the ledger: it needs no
approval ticket, even in production, and it does not check the ledger first. The flag goes off, and its audit event is
written right after. If the ledger cannot be written at that moment, the event is spooled to a local file (in the
spool subfolder of the state folder), the command warns, the returned record has AuditSpooled set, and the event is
written to the same ledger by the next command that can reach it (or by Connect-FlagLedger). Nothing is lost.

For an incident, prefer Invoke-EmergencyRollback: it does the same, then verifies the flag is off and reports how long
it took against the playbook's five-minute budget.
'@
    Parameters   = @{
        Flag           = 'The flag key to switch off. Accepts flag names from the pipeline ("a","b" | Disable-Flag ...) and pipeline input by property name (Flag, or its alias Key); wildcards are refused (FlagWildcardNotAccepted). A flag that does not exist writes a FlagNotFound error.'
        Environment    = 'The environment to change. Defaults to the store''s default environment (Connect-FlagStore -Environment); without one the command fails with EnvironmentRequired. Accepts pipeline input by property name.'
        Reason         = 'Why the flag is switched off, for the audit record. Required, even in an emergency; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'The change or incident ticket to record. Optional: switching off never requires a ticket, but record one when you have it.'
        User           = 'Who is making the change, as recorded in the audit event''s user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store to change, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store.'
        Ledger         = 'The audit ledger to record the change in, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Force          = 'Switches the flag off without asking for confirmation. Use it in unattended scripts, pipelines and incident runbooks.'
        WhatIf         = 'Shows the flag''s current and new state without changing the flag document or writing to the ledger. Nothing is returned.'
        Confirm        = 'Asks for confirmation before switching the flag off. This is the default for this command (ConfirmImpact High); -Confirm:$false turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Flags.FlagChangeRecord' = 'The change. AuditSequence is the ledger sequence of its audit event; AuditSpooled is true when the event was spooled because the ledger was unavailable.'
    }
    Examples     = @(
        @{
            Title   = 'Switch a flag off in production'
            Code    = 'Disable-Flag -Flag telehealth_appointments_enabled -Environment production -Reason ''Error rate above 5%'' -Force'
            Remarks = 'No approval ticket is needed to switch a flag off.'
        }
        @{
            Title   = 'Switch off every flag of a feature family in staging'
            Code    = 'Get-Flag -Flag telehealth_* -Environment staging | Disable-Flag -Reason ''Staging reset before the next test cycle'' -Force'
            Remarks = 'Each piped flag is switched off and audited separately.'
        }
    )
    Notes        = @'
Error ids: ReasonRequired, EnvironmentRequired, FlagDocumentMalformed, FlagDocumentNotFound, NoFlagStore, and
AuditNotRecorded (the flag WAS switched off, but neither the ledger nor the spool could record it; the message holds
the event to record by hand). FlagNotFound and EnvironmentNotFound are non-terminating.
'@
    RelatedLinks = @('about_PMS.Flags', 'Invoke-EmergencyRollback', 'Enable-Flag', 'Connect-FlagLedger')
}
