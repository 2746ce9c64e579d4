@{
    Synopsis     = 'Verifies the audit ledger''s hash chain and reports the first event that was modified, deleted, inserted or reordered.'
    Description  = @'
Test-FlagAuditChain reads every event in a ledger and checks that it is intact: each event's SHA-256 hash must match
its canonical content, sequence numbers must run 1, 2, 3, ... without gaps, and each event's prev_hash must equal the
hash of the event before it.

It returns one verdict: Valid, Count (the number of lines read), FirstBrokenSequence (null when valid), Problem (one
of modified, deleted, inserted, reordered), Message (what was found, with the line number) and HeadHash (the last
event's hash when valid -- keep it somewhere else to detect a truncated tail later). A broken chain also writes a
warning; the command does not fail, so a script decides what to do with the verdict.
'@
    Parameters   = @{
        Ledger = 'The ledger to verify, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Path   = 'A JSONL ledger file to verify directly, for example a copy handed to an auditor. A relative path is resolved against the current location. A file that does not exist writes a LedgerNotFound error rather than an empty, valid verdict.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.ChainVerification' = 'Ledger, Valid, Count, FirstBrokenSequence, Problem, Message and HeadHash.'
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
    )
    Notes        = @'
Error id: LedgerNotFound (the file given by -Path does not exist; non-terminating, use -ErrorAction Stop to stop on it).
A session or default ledger that has not been written yet is reported as valid with Count 0.

The check reads the whole ledger and hashes lines in parallel; it is fast enough for millions of events.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-FlagAudit', 'Export-FlagAudit', 'Connect-FlagLedger')
}
