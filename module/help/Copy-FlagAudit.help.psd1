@{
    Synopsis     = 'Copies an audit trail into another ledger, JSONL to PostgreSQL or back, keeping every sequence, hash and signed checkpoint.'
    Description  = @'
Copy-FlagAudit moves the audit trail between ledgers without changing one byte of evidence, so a team can start with a
JSONL file on a laptop and move to the shared PostgreSQL ledger (or take a PostgreSQL trail out as a JSONL file).

A hash covers an event's content, its sequence and the hash before it, so the copied events keep their sequences and
hashes and the target verifies exactly like the source. Before writing anything the command verifies the source (a
broken source is AuditCopySourceBroken) and checks that the target holds nothing, or exactly the source's first events
(a copy that was interrupted is resumed); anything else is AuditCopyTargetDiverged. Every batch is checked hash by hash
as it lands.

The source's signed checkpoints come along unchanged, after the events they seal (a JSONL checkpoint file becomes
rows of the PostgreSQL checkpoints table, and back): a signature covers the sequence, head hash, byte length, time,
previous signature and key, so the checkpoints verify in the target exactly as in the source, and
Test-FlagAuditChain -PublicKeyPath on the target reports the same sealed head. A JSONL checkpoint names the byte offset
just after the line it seals; the copy writes the source's lines byte for byte, so the offsets hold, and a checkpoint
whose offset would not hold in a JSONL target is refused before anything is written (AuditCopyCheckpointMisplaced;
copy into a new, empty file). Checkpoints the target already holds must be the source's first ones, else
AuditCopyCheckpointsDiverged and nothing is written. While the events are copied a target connected with
-SigningKeyPath does not add seals of its own between the source's; it seals again from the audit_copied event on,
chained to the last copied checkpoint. A source without checkpoints has none to carry, and the target seals as usual.

The copy itself is then recorded in the target as an audit_copied event (after the copied events and checkpoints),
with -Reason, the user, both ledgers, the numbers of events and checkpoints and the source's last hash.

If the copy stops partway (the database goes away, the target's checkpoint file cannot be written),
AuditCopyIncomplete says how far it got: the target then holds the source's first events (all of them, or a prefix)
and the source's first checkpoints (none, or a prefix), and no audit_copied event. That target is a valid, shorter
copy of the source. Fix the cause and run the same Copy-FlagAudit again: it finds what is already there, copies only
the rest and then records the copy.

-WhatIf says how many events and checkpoints would be copied and writes nothing.
'@
    Parameters   = @{
        From   = 'The ledger to copy from, as returned by Connect-FlagLedger -NoDefault (a JSONL file or a PostgreSQL ledger). It is only read.'
        To     = 'The ledger to copy into: empty, or holding exactly the first events and checkpoints of the source from an interrupted copy. It receives the missing events, then the missing checkpoints, then the audit_copied event.'
        Reason = 'Why the trail is copied (for example the move to the shared ledger); recorded in the audit_copied event.'
        WhatIf = 'Checks both ledgers and says how many events and signed checkpoints would be copied, without writing anything to the target.'
        Confirm = 'Asks for confirmation before the first event is written to the target ledger.'
        User   = 'Who copies, recorded in the audit_copied event; default GITHUB_ACTOR, BUILD_REQUESTEDFOREMAIL, else the OS user.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.Postgres.LedgerCopyResult' = 'From, To, AlreadyPresent (events the target held), Copied, HeadHash (the source''s last hash), CheckpointsAlreadyPresent and CheckpointsCopied.'
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
            Remarks = 'The events keep their sequences and hashes and any signed checkpoints come along (verify them with Test-FlagAuditChain -PublicKeyPath); the shared ledger verifies like the file did, and records the copy after them.'
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
Error ids: AuditCopySameLedger (-From and -To are one ledger), AuditCopySourceBroken (the source, or its checkpoints,
do not verify), AuditCopyTargetDiverged (the target is not a prefix of the source, or something else wrote to it during
the copy), AuditCopyCheckpointsDiverged (the target's checkpoints are not the source's first ones),
AuditCopyCheckpointMisplaced (a checkpoint's byte offset would not hold in the JSONL target), AuditCopyIncomplete (the
copy stopped partway; run it again), CheckpointFileMalformed (the target's checkpoint file is not one, or is a folder),
and the ledgers' own (LedgerUnavailable, LedgerPermissionDenied, ...).
'@
}
