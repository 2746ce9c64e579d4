@{
    Synopsis     = 'Gets audit events from the ledger: who changed which flag, where, when, why and under which ticket.'
    Description  = @'
Get-FlagAudit reads the audit ledger (see Connect-FlagLedger) oldest first and returns the events that match every
filter you give. It replaces the playbook's `kubectl logs ... | grep "feature_flag_toggled"` with objects you can
filter, sort, group and export.

Each event carries the playbook's audit fields as PascalCase properties -- Timestamp (UTC), EventType, UserId,
FeatureFlag (also exposed as Flag), PreviousState, NewState, Environment, Reason, RolloutPercentage, ApprovalTicket --
plus EventId, Sequence, RolloutId, Store, PreviousPercentage, Outcome, Details (JSON), PrevHash and Hash. Event types
include feature_flag_toggled (every flag change) and emergency_rollback (the summary of Invoke-EmergencyRollback).

Get-FlagAudit only reads. It does not verify the hash chain; use Test-FlagAuditChain for that. A ledger with a line
that is not an audit event fails with LedgerMalformed.
'@
    Parameters   = @{
        Flag        = 'Only events for this flag key (exact, case-insensitive). Accepts pipeline input by property name, so Get-Flag output can be piped in.'
        Environment = 'Only events in this environment (exact, case-insensitive), for example production. Accepts pipeline input by property name.'
        EventType   = 'Only events of these types, for example feature_flag_toggled or emergency_rollback. Several types may be given. Tab completes the known types; an unknown type (a typo) fails with EventTypeUnknown instead of returning nothing.'
        User        = 'Only events made by this user, as recorded in user_id (exact, case-insensitive), for example admin@pms.example.com. Tab completes the users the ledger has recorded.'
        Since       = 'Only events at or after this time. A date without an offset is taken in local time; for example (Get-Date).AddDays(-7) or ''2025-01-15T00:00:00Z''.'
        Until       = 'Only events at or before this time. A date without an offset is taken in local time.'
        First       = 'Returns at most this many matching events, the oldest first. Must be 1 or more. For the latest changes use -Newest.'
        Newest      = 'Returns at most this many matching events, the newest first: "who changed it last". Must be 1 or more; not with -First.'
        Skip        = 'Passes over the first N matching events: the oldest N, or with -Newest the newest N, so -Newest 50 -Skip 50 is the second page back from the end. 0 or more. An offset is for interactive use: the ledger still reads the events it passes over; to walk a large trail use -AfterSequence.'
        AfterSequence = 'Only events with a Sequence greater than this one: the cursor for walking a large trail page by page (pass the Sequence of the last event of the previous page). Every filter still applies, and a page deep in the trail costs what the first page costs (on PostgreSQL a range on the sequence indexes). 0 or more; combines with -First, -Newest and -Skip, but not with -IncludePending.'
        IncludePending = 'Also returns the events spooled for this ledger (the change happened but the ledger could not record it yet), after the ledger''s events, with Pending set to True and no sequence. Sync-FlagLedger writes them.'
        Ledger      = 'The ledger to read, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.AuditEvent' = 'One audit event, with the playbook''s fields as PascalCase properties and its place in the hash chain (Sequence, PrevHash, Hash).'
    }
    Examples     = @(
        @{
            Title   = 'All changes of one flag in production'
            Code    = 'Get-FlagAudit -Flag telehealth_appointments_enabled -Environment production'
            Remarks = 'The playbook''s "Check audit logs" step, as objects.'
        }
        @{
            Title   = 'Who changed it last'
            Code    = 'Get-FlagAudit -Flag telehealth_appointments_enabled -Newest 5'
            Remarks = 'The five latest events of the flag, newest first.'
        }
        @{
            Title   = 'Emergency rollbacks of the last week'
            Code    = 'Get-FlagAudit -EventType emergency_rollback -Since (Get-Date).AddDays(-7) | Format-Table Timestamp, Flag, Environment, UserId, Outcome, Reason'
            Remarks = 'Lists who rolled back what, when and why.'
        }
        @{
            Title   = 'What one person changed, exported for an auditor'
            Code    = 'Get-FlagAudit -User admin@pms.example.com -Since ''2025-01-01'' | Export-FlagAudit -Format Csv -Path ./admin-changes.csv'
            Remarks = 'The CSV keeps the ledger''s snake_case field names.'
        }
        @{
            Title   = 'Walking a large trail page by page'
            Code    = '$after = 0; do { $page = @(Get-FlagAudit -Flag telehealth_appointments_enabled -First 1000 -AfterSequence $after); $page | Export-Csv -Append ./trail.csv; if ($page.Count) { $after = $page[-1].Sequence } } while ($page.Count -eq 1000)'
            Remarks = 'Each page starts after the last sequence of the one before, so every event comes once, in order, even while new events are appended.'
        }
        @{
            Title   = 'The history of every flag that is on in staging'
            Code    = 'Get-Flag -Environment staging | Where-Object On | Get-FlagAudit'
            Remarks = 'Flag and Environment bind by property name from Get-Flag.'
        }
    )
    Notes        = @'
Error ids: LedgerMalformed (a line is not an audit event; run Test-FlagAuditChain to locate it), EventTypeUnknown (an
-EventType that the module never writes), AuditRangeConflict (-First with -Newest),
AuditPagingConflict (-IncludePending with -Skip or -AfterSequence: spooled events have no sequence yet, so they
cannot be paged). -First, -Newest, -Skip and -AfterSequence select a page after the filters: the events after
-AfterSequence, oldest first (newest first with -Newest), less the first -Skip, at most -First (or -Newest) of them.
'@
    RelatedLinks = @('about_PMS.Flags', 'Export-FlagAudit', 'Test-FlagAuditChain', 'Connect-FlagLedger')
}
