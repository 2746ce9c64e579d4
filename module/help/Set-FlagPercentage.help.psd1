@{
    Synopsis     = 'Sets the rollout percentage of a feature flag in one environment, and records the change in the audit ledger.'
    Description  = @'
Set-FlagPercentage exposes a flag to a percentage of users -- the playbook's gradual activation and progressive
rollout (5% -> 25% -> 50% -> 100%). It switches the flag on at that percentage: in a feature_flags.json document the
flag becomes { "enabled": true, "rollout_percentage": N } (true at 100% when it was a plain boolean), and an object
keeps any other keys it has.

Every change is audited first: the command checks that the ledger can be written BEFORE it touches the flag, and
refuses with LedgerUnwritable if not, so no change is ever made that cannot be recorded. After the change it writes a
feature_flag_toggled event with the user, reason, ticket, previous and new state and percentage, and returns a
record of the change with the event's ledger sequence.

Percentages run from 0 to 100 with at most three decimals (LaunchDarkly weights are thousandths of a percent, so a
finer value is refused rather than silently rounded). Every change needs -Reason; in a protected environment
(production by default, see Connect-FlagStore -ProtectedEnvironment) it also needs -ApprovalTicket.

Setting the percentage a flag already has changes nothing in the document, but is still recorded, with outcome
"unchanged". Use -WhatIf to see the current and the new state without changing anything.
'@
    Parameters   = @{
        OverrideReadiness = 'In a protected environment, set a percentage above 0 although the flag''s pre-deployment checklist does not pass (FlagNotReady otherwise). -Reason is recorded in a readiness_overridden event, written before the change. Setting 0 is never gated.'
        Flag           = 'The flag key to change, for example telehealth_appointments_enabled. Accepts flag names from the pipeline ("a","b" | Set-FlagPercentage ...) and pipeline input by property name (Flag, or its alias Key); wildcards are refused (FlagWildcardNotAccepted), so the output of Get-Flag can be piped in. A flag that does not exist writes a FlagNotFound error and the next piped flag is still processed.'
        Percentage     = 'The share of users who get the feature, from 0 to 100 with at most three decimals (12.5 and 33.333 are fine; 12.3456 fails with PercentageTooPrecise). Values outside 0-100 fail with PercentageOutOfRange, NaN and infinity with PercentageNotANumber.'
        Environment    = 'The environment to change, for example staging or production. Defaults to the store''s default environment (Connect-FlagStore -Environment); without one the command fails with EnvironmentRequired. Accepts pipeline input by property name.'
        Reason         = 'Why the change is made, in words an auditor can follow, for example ''Gradual rollout - Phase 2 (25% of users)''. Required; an empty or blank reason fails with ReasonRequired. Stored in the audit event''s reason field.'
        ApprovalTicket = 'The change-approval ticket, for example TICKET-12345. Required in protected environments (production by default), where a change without it fails with ApprovalTicketRequired. Stored in the audit event''s approval_ticket field.'
        User           = 'Who is making the change, as recorded in the audit event''s user_id. Defaults to the CI requester ($env:GITHUB_ACTOR in GitHub Actions, $env:BUILD_REQUESTEDFOREMAIL in Azure Pipelines), else the operating-system user name.'
        Rule           = 'For stores that serve percentages through targeting rules (LaunchDarkly), the rule whose rollout to change instead of the default rule. The local feature_flags.json store has no rules and ignores it.'
        Store          = 'The flag store to change, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store.'
        Ledger         = 'The audit ledger to record the change in, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger when none is connected (see Connect-FlagLedger).'
        Force          = 'Changes the flag without asking for confirmation, even when $ConfirmPreference would ask. Use it in unattended scripts and pipelines.'
        WhatIf         = 'Shows the flag''s current and new state without changing the flag document or writing to the ledger. Nothing is returned.'
        Confirm        = 'Asks for confirmation before changing the flag.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Flags.FlagChangeRecord' = 'The change: Flag, Environment, On, Percentage, PreviousOn, PreviousPercentage, Changed, Store, Timestamp, User, Reason, ApprovalTicket, AuditSequence (the ledger sequence number) and AuditSpooled.'
    }
    Examples     = @(
        @{
            Title   = 'Start a gradual rollout in staging'
            Code    = @'
Connect-FlagStore -Path ./apps/backend/config/feature_flags.json
Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'Gradual rollout - Phase 1 (5% of users)'
'@
            Remarks = 'Exposes the feature to 5% of staging users and records a feature_flag_toggled event.'
        }
        @{
            Title   = 'A production step with its approval ticket'
            Code    = 'Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment production -Percentage 25 -Reason ''Gradual rollout - Phase 2 (25% of users)'' -ApprovalTicket TICKET-12345'
            Remarks = 'The playbook''s example audit entry: production changes need -ApprovalTicket.'
        }
        @{
            Title   = 'Preview a change'
            Code    = 'Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 50 -Reason ''Phase 3'' -WhatIf'
            Remarks = 'Prints what would change (for example "on at 25% -> on at 50%") and changes nothing.'
        }
        @{
            Title   = 'Change every flag a query returns'
            Code    = 'Get-Flag -Flag new_* -Environment staging | Set-FlagPercentage -Percentage 100 -Reason ''Staging: full exposure for regression run'' -Force'
            Remarks = 'Each piped flag is changed and audited on its own; -Force skips confirmation in a script.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand"):
PercentageOutOfRange, PercentageNotANumber, PercentageTooPrecise, ReasonRequired, ApprovalTicketRequired,
EnvironmentRequired, LedgerUnwritable, LedgerTornTail and LedgerMalformed (the ledger cannot take the event: nothing was changed), FlagDocumentMalformed (the document is left as it is),
FlagDocumentNotFound, LockTimeout, NoFlagStore; FlagNotFound and EnvironmentNotFound are non-terminating, so a
pipeline goes on with the next flag (use -ErrorAction Stop to stop).
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-Flag', 'Enable-Flag', 'Disable-Flag', 'Get-FlagAudit')
}
