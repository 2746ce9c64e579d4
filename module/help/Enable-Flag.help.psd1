@{
    Synopsis     = 'Switches a feature flag on in one environment, and records the change in the audit ledger.'
    Description  = @'
Enable-Flag switches a flag back on at the percentage it last had while on, as the audit ledger recorded it: a flag
that was at 25% before Disable-Flag or Invoke-EmergencyRollback wrote a plain false comes back at 25%, not at 100%.
When the ledger knows no percentage, a plain false becomes true (100% of users) and a partial rollout object keeps its
rollout_percentage. Use Set-FlagPercentage to choose the percentage (100 for full activation); use Enable-Flag to
restore a flag that was switched off. -Verbose says which percentage was restored and why.

Like every change it is audited first: the command refuses with LedgerUnwritable when the ledger cannot be written,
before touching the flag. Every change needs -Reason; protected environments (production by default) also need
-ApprovalTicket. Because switching a feature on for users is a high-impact change, the command asks for
confirmation unless you pass -Force or -Confirm:$false.
'@
    Parameters   = @{
        OverrideReadiness = 'In a protected environment, switch the flag on although its pre-deployment checklist does not pass (FlagNotReady otherwise). -Reason is recorded in a readiness_overridden event, written before the change; without a ledger that takes it nothing changes.'
        Flag           = 'The flag key to switch on, for example telehealth_appointments_enabled. Accepts flag names from the pipeline ("a","b" | Enable-Flag ...) and pipeline input by property name (Flag, or its alias Key); wildcards are refused (FlagWildcardNotAccepted). A flag that does not exist writes a FlagNotFound error.'
        Environment    = 'The environment to change. Defaults to the store''s default environment (Connect-FlagStore -Environment); without one the command fails with EnvironmentRequired. Accepts pipeline input by property name.'
        Reason         = 'Why the flag is switched on, for the audit record. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket = 'The change-approval ticket, for example TICKET-12345. Required in protected environments (production by default); without it the command fails with ApprovalTicketRequired.'
        User           = 'Who is making the change, as recorded in the audit event''s user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store          = 'The flag store to change, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store.'
        Ledger         = 'The audit ledger to record the change in, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Force          = 'Switches the flag on without asking for confirmation. Use it in unattended scripts and pipelines.'
        WhatIf         = 'Shows the flag''s current and new state without changing the flag document or writing to the ledger. Nothing is returned.'
        Confirm        = 'Asks for confirmation before switching the flag on. This is the default for this command (ConfirmImpact High); -Confirm:$false turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Flags.FlagChangeRecord' = 'The change, with the previous and new state and the ledger sequence of its audit event.'
    }
    Examples     = @(
        @{
            Title   = 'Restore a flag after a fix'
            Code    = 'Enable-Flag -Flag telehealth_appointments_enabled -Environment production -Reason ''Fix deployed, resuming at 25%'' -ApprovalTicket TICKET-12346 -Force'
            Remarks = 'Switches the flag back on at the percentage it had when it was switched off.'
        }
        @{
            Title   = 'Preview first'
            Code    = 'Enable-Flag -Flag new_billing_engine -Environment staging -Reason ''Staging validation'' -WhatIf'
            Remarks = 'Shows "off at 0% -> on at 100%" (or the stored percentage) and changes nothing.'
        }
    )
    Notes        = @'
Error ids: ReasonRequired, ApprovalTicketRequired, EnvironmentRequired, LedgerUnwritable, LedgerTornTail and
LedgerMalformed (nothing was changed), FlagDocumentMalformed,
FlagDocumentNotFound, NoFlagStore; FlagNotFound and EnvironmentNotFound are non-terminating.
'@
    RelatedLinks = @('about_PMS.Flags', 'Set-FlagPercentage', 'Disable-Flag', 'Get-Flag')
}
