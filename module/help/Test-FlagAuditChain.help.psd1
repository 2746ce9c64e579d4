@{
    Synopsis     = 'Verifies the audit ledger''s hash chain and reports the first event that was modified, deleted, inserted or reordered.'
    Description  = @'
Test-FlagAuditChain reads every event in a ledger and checks that it is intact: each event's SHA-256 hash must match
its canonical content, sequence numbers must run 1, 2, 3, ... without gaps, and each event's prev_hash must equal the
hash of the event before it.

With checkpoints (see Connect-FlagLedger -SigningKeyPath) it also checks every checkpoint's signature against the
trusted public keys and that the ledger still holds the head the last checkpoint sealed; with -ExpectedHead, that a
head kept elsewhere is still in the ledger. It reads the ledger as a stream (constant memory) up to where it ended when
the writers' lock was taken, so an append in flight is never reported as a break.

It returns one verdict: Valid, Count (the number of lines read), FirstBrokenSequence (null when valid), Problem (one
of modified, deleted, inserted, reordered; with checkpoints truncated, signature_invalid, checkpoint_missing,
rolled_back; and torn_tail), CheckpointVerified, SealedSequence and SealedHead, UnsealedCount (events after the last
checkpoint), Pending (events spooled and not yet in the ledger, also said as a warning), Message (what was found, with the line number) and HeadHash (the last
event's hash when valid -- keep it somewhere else to detect a truncated tail later). A broken chain also writes a
warning; the command does not fail, so a script decides what to do with the verdict.
'@
    Parameters   = @{
        Ledger = 'The ledger to verify, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        PublicKeyPath  = 'PEM files with the ECDSA P-256 public keys whose checkpoints are trusted; after a key rotation give the old and the new key. With keys, a missing checkpoint file is checkpoint_missing and a bad signature signature_invalid; keys that sign none of the checkpoints fail with CheckpointKeyMismatch. For a PostgreSQL ledger (-Ledger) the checkpoints are its <schema>.checkpoints table.'
        CheckpointPath = 'The checkpoint file to check against; by default <ledger>.checkpoints.jsonl, for example a copy kept on other storage.'
        ExpectedHead   = 'A sealed head hash kept elsewhere (the CI log notice, an auditor''s note). When the ledger no longer holds an event with that hash, Problem is rolled_back.'
        Path   = 'A JSONL ledger file to verify directly, for example a copy handed to an auditor. A relative path is resolved against the current location. A file that does not exist writes a LedgerNotFound error rather than an empty, valid verdict.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.ChainVerification' = 'Ledger, Valid, Count, FirstBrokenSequence, Problem, Message, HeadHash, CheckpointVerified, SealedSequence, SealedHead, UnsealedCount and Pending.'
    }
    Examples     = @(
        @{
            Title   = 'Check the session''s ledger'
            Code    = 'Test-FlagAuditChain'
            Remarks = 'Valid is True when no event was changed, removed, added or moved.'
        }
        @{
            Title   = 'Fail a compliance job on a broken chain'
            Code    = @'
$verdict = Test-FlagAuditChain -Path ./audit/feature-flags.jsonl
if (-not $verdict.Valid) { throw "Audit ledger broken at #$($verdict.FirstBrokenSequence): $($verdict.Problem) - $($verdict.Message)" }
'@
            Remarks = 'Stops the job and names the first broken event.'
        }
        @{
            Title   = 'Verify the checkpoints and a head kept in last week''s CI log'
            Code    = @'
Test-FlagAuditChain -Path ./audit/feature-flags.jsonl -PublicKeyPath ./keys/audit-2025.pub.pem, ./keys/audit-2026.pub.pem -ExpectedHead $keptHead
'@
            Remarks = 'Valid and CheckpointVerified are True only when nothing was cut off, rewritten or rolled back since the head was kept.'
        }
    )
    Notes        = @'
Error ids: LedgerNotFound (the file given by -Path does not exist; non-terminating, use -ErrorAction Stop to stop on it),
CheckpointKeyNotFound, CheckpointKeyMalformed, CheckpointKeyMismatch, CheckpointFileMalformed, ExpectedHeadInvalid.
Under GitHub Actions the sealed head is printed as a ::notice, so a copy lives in the pipeline log, off the machine.
A session or default ledger that has not been written yet is reported as valid with Count 0.

The check reads the whole ledger and hashes lines in parallel; it is fast enough for millions of events.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-FlagAudit', 'Export-FlagAudit', 'Connect-FlagLedger', 'New-FlagAuditCheckpoint', 'Repair-FlagLedger')
}
