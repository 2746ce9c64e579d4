@{
    Synopsis     = 'Copies an audit trail into another ledger, JSONL to PostgreSQL or back, keeping every sequence and hash.'
    Description  = @'
Copy-FlagAudit moves the audit trail between ledgers without changing one byte of evidence, so a team can start with a
JSONL file on a laptop and move to the shared PostgreSQL ledger (or take a PostgreSQL trail out as a JSONL file).

A hash covers an event's content, its sequence and the hash before it, so the copied events keep their sequences and
hashes and the target verifies exactly like the source. Before writing anything the command verifies the source (a
broken source is AuditCopySourceBroken) and checks that the target holds nothing, or exactly the source's first events
(a copy that was interrupted is resumed); anything else is AuditCopyTargetDiverged. Every batch is checked hash by hash
as it lands. The copy itself is then recorded in the target as an audit_copied event (after the copied events), with
-Reason, the user, both ledgers, the number of events and the source's last hash.

-WhatIf says how many events would be copied and writes nothing.
'@
    Parameters   = @{
        From   = 'The ledger to copy from, as returned by Connect-FlagLedger -NoDefault (a JSONL file or a PostgreSQL ledger). It is only read.'
        To     = 'The ledger to copy into: empty, or holding exactly the first events of the source from an interrupted copy. It receives the missing events and the audit_copied event.'
        Reason = 'Why the trail is copied (for example the move to the shared ledger); recorded in the audit_copied event.'
        WhatIf = 'Checks both ledgers and says how many events would be copied, without writing anything to the target.'
        Confirm = 'Asks for confirmation before the first event is written to the target ledger.'
        User   = 'Who copies, recorded in the audit_copied event; default GITHUB_ACTOR, BUILD_REQUESTEDFOREMAIL, else the OS user.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.Postgres.LedgerCopyResult' = 'From, To, AlreadyPresent (events the target held), Copied and HeadHash (the source''s last hash).'
    }
    Examples     = @(
        @{
            Title   = 'Move a laptop''s JSONL trail into the shared PostgreSQL ledger'
            Code    = @'
$laptop = Connect-FlagLedger -Path ./audit/feature-flags.jsonl -NoDefault
$shared = Connect-FlagLedger -ConnectionString $env:DATABASE_URL -NoDefault
Copy-FlagAudit -From $laptop -To $shared -Reason 'Move the audit trail to the shared ledger'
Test-FlagAuditChain -Ledger $shared
'@
            Remarks = 'The events keep their sequences and hashes; the shared ledger verifies like the file did, and records the copy after them.'
        }
        @{
            Title   = 'Take the PostgreSQL trail out as a JSONL file for an auditor'
            Code    = @'
$shared = Connect-FlagLedger -ConnectionString 'Host=db.internal;Database=pms;Username=auditor' -NoDefault
$file = Connect-FlagLedger -Path ./audit/for-auditor.jsonl -NoDefault
Copy-FlagAudit -From $shared -To $file -Reason 'Evidence for the Q3 audit' -WhatIf
'@
            Remarks = 'With -WhatIf it only says how many events would be copied; without it, the file verifies with Test-FlagAuditChain -Path on any machine.'
        }
    )
    Notes        = @'
Error ids: AuditCopySameLedger (-From and -To are one ledger), AuditCopySourceBroken (the source does not verify),
AuditCopyTargetDiverged (the target is not a prefix of the source, or something else wrote to it during the copy),
and the ledgers' own (LedgerUnavailable, LedgerPermissionDenied, ...). Checkpoints are not copied yet.
'@
}
