@{
    Synopsis     = 'Writes the audit events older than a cut to a JSONL archive file and records the archive in the ledger; it never deletes an event.'
    Description  = @'
Save-FlagAuditArchive is the deliberate, audited way to take old audit events out as a portable file for the six-year
record (HIPAA 164.316(b)(2)). It writes the ledger's first events whose timestamp is before -Before to -Path, as the
very lines a JSONL ledger holds, so Test-FlagAuditChain -Path verifies the archive on any machine as the first events of
the chain. It works for JSONL and PostgreSQL ledgers alike.

NOTHING IS DELETED FROM THE LEDGER. The ledger is append-only (PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE),
and every hash covers the hash before it: pruning the oldest events would break the chain for every event after them.
The archive is a copy, not a replacement.

A cut inside the retention period (-RetentionPeriod, default six years of 365.25 days) is refused with
AuditRetentionNotElapsed before anything is read or written. The ledger must verify (AuditArchiveSourceBroken), an
existing file is replaced only with -Force (AuditArchiveFileExists), and a cut with no older event writes nothing
(AuditArchiveEmpty). The file is written readable by its owner only (0600) under a temporary name, fsynced and then
moved into place, so a failure halfway leaves no partial archive. The archive is then recorded in the ledger as an
audit_archived event with -Reason, the user, the number of events, the first and last sequence, the hash at the cut
and the file's SHA-256.

-WhatIf says how many events would be archived and writes nothing.
'@
    Parameters   = @{
        Before          = 'The cut: events whose timestamp is before it (the leading run of the chain) are archived. It must be at least -RetentionPeriod in the past.'
        Path            = 'The archive file to write (JSONL, 0600). Its folder is created if needed.'
        Reason          = 'Why the archive is taken; recorded in the audit_archived event.'
        Ledger          = 'The ledger to archive from and record in, as returned by Connect-FlagLedger (default: the session''s ledger).'
        RetentionPeriod = 'How long events must have been kept before they may be archived; default 2191.5 days (six years).'
        Force           = 'Replaces an existing archive file.'
        User            = 'Who archives, recorded in the audit_archived event; default GITHUB_ACTOR, BUILD_REQUESTEDFOREMAIL, else the OS user.'
        WhatIf          = 'Checks the retention period and the ledger and says how many events would be archived, without writing anything.'
        Confirm         = 'Asks for confirmation before the archive file is written.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.Archive.AuditArchiveResult' = 'Path, Before, Count, FirstSequence, LastSequence, HeadHash (the hash at the cut) and Sha256 (of the file).'
    }
    Examples     = @(
        @{
            Title   = 'Preview the archive of everything older than seven years'
            Code    = @'
Save-FlagAuditArchive -Before (Get-Date).AddYears(-7) -Path ./archive/audit-before-7y.jsonl -Reason 'Yearly archive for the records office' -WhatIf
'@
            Remarks = 'Says how many events would be archived; nothing is written and nothing is recorded.'
        }
        @{
            Title   = 'Archive the events before 2020 from the shared PostgreSQL ledger and verify the file'
            Code    = @'
$shared = Connect-FlagLedger -ConnectionString $env:DATABASE_URL -NoDefault
Save-FlagAuditArchive -Ledger $shared -Before '2020-01-01' -Path ./archive/audit-before-2020.jsonl -Reason 'Six-year record, ticket REC-12'
Test-FlagAuditChain -Path ./archive/audit-before-2020.jsonl
'@
            Remarks = 'The archive verifies as the first events of the chain; the ledger keeps every event and records an audit_archived event with the file''s SHA-256.'
        }
    )
    Notes        = @'
Error ids: AuditRetentionNotElapsed (-Before is inside the retention period), AuditRetentionInvalid (a negative
-RetentionPeriod), AuditArchiveFileExists, AuditArchiveEmpty, AuditArchiveSourceBroken, AuditArchiveWriteFailed, and
the ledgers' own (LedgerUnavailable, ...). Events are never deleted from the ledger; there is no pruning command.
'@
}
