@{
    Synopsis     = 'Moves a torn last line of the audit ledger, left by a crash, to a quarantine file, and records that.'
    Description  = @'
A crash in the middle of a write can leave the ledger ending in an incomplete line (a torn tail). Such a ledger blocks
every audited change (LedgerTornTail) until it is repaired. Repair-FlagLedger copies the bytes after the last complete
line to a quarantine file beside the ledger (<ledger>.torn-<time>-<id>.quarantine, fsynced), cuts the ledger back to its
last complete line, and records a ledger_repaired event with the quarantine file, the number of bytes and their
SHA-256. It never removes a complete event: every complete line stays byte-identical.

It refuses (LedgerNotTorn) a ledger that has no torn tail, or whose problem is anything else (a modified, deleted or
inserted event is a person's to look at, with Test-FlagAuditChain); nothing is changed then. Use -WhatIf to see what
it would do.
'@
    Parameters   = @{
        Path   = 'The JSONL ledger file to repair. A relative path is resolved against the current location; a file that does not exist fails with LedgerNotFound.'
        Ledger = 'The ledger to repair, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger.'
        Reason = 'Why the ledger is repaired, recorded in the ledger_repaired event, for example the incident or host that crashed.'
        WhatIf = 'Shows after which event the tail is torn and that it would be moved, without moving or recording anything.'
        Confirm = 'Asks for confirmation before the torn bytes are moved and the ledger is cut back.'
        User   = 'Who repairs it, recorded as user_id; defaults to the CI actor or the OS user.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.Checkpoints.LedgerRepairResult' = 'Ledger, QuarantinePath, QuarantinedBytes, QuarantinedSha256 and the Sequence of the ledger_repaired event.'
    }
    Examples     = @(
        @{
            Title   = 'Repair the ledger after a crash'
            Code    = @'
Repair-FlagLedger -Path ./audit/feature-flags.jsonl -Reason 'host build-7 lost power during a write'
'@
            Remarks = 'The torn bytes are kept in a .quarantine file beside the ledger; the next change appends again.'
        }
        @{
            Title   = 'See what would be moved, without changing anything'
            Code    = 'Repair-FlagLedger -Path ./audit/feature-flags.jsonl -WhatIf'
            Remarks = 'Names the sequence after which the tail is torn.'
        }
    )
    Notes        = @'
Error ids: LedgerNotTorn (nothing to repair, or another problem; nothing changed), LedgerNotFound, LedgerUnwritable.
'@
    RelatedLinks = @('about_PMS.Flags', 'Test-FlagAuditChain', 'Connect-FlagLedger')
}
