@{
    Synopsis     = 'Writes the audit events spooled while the ledger was unavailable, now, and returns them.'
    Description  = @'
When a change happened but the ledger could not record it at that moment, its event is kept in the local spool and
written on the next audited change. Sync-FlagLedger writes them on demand, under the ledger's writers' lock and once
each (by event_id), and returns the events as the ledger now holds them, with their sequences. Get-FlagAudit
-IncludePending shows what is waiting; Test-FlagAuditChain reports the count as Pending.

A ledger that still refuses keeps every event in the spool and the command fails with that ledger's error.
'@
    Parameters   = @{
        WhatIf = 'Shows how many spooled events would be written to which ledger, without writing them.'
        Confirm = 'Asks for confirmation before the spooled events are written.'
        Ledger = 'The ledger to write the spooled events to, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.AuditEvent' = 'Each event written, with its new Sequence and Hash.'
    }
    Examples     = @(
        @{
            Title   = 'Write what is pending before an audit export'
            Code    = 'Sync-FlagLedger -Verbose'
            Remarks = 'Says how many events were written; writes nothing and returns nothing when the spool is empty.'
        }
        @{
            Title   = 'See what is pending, then write it'
            Code    = @'
Get-FlagAudit -IncludePending | Where-Object Pending
Sync-FlagLedger | Format-Table Sequence, EventType, Flag
'@
            Remarks = 'The pending events come back with their sequences once written.'
        }
    )
    Notes        = @'
Error ids: the ledger's own (LedgerUnwritable, LedgerTornTail, LedgerTampered on first use of a default ledger).
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-FlagAudit', 'Test-FlagAuditChain', 'Connect-FlagLedger')
}
