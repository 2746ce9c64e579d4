@{
    Synopsis     = 'Seals the audit ledger''s current head with a signed checkpoint, on demand.'
    Description  = @'
New-FlagAuditCheckpoint signs a statement "event #N had hash H at time T" with an ECDSA P-256 private key and appends
it to the checkpoint file (by default <ledger>.checkpoints.jsonl) or, for a PostgreSQL ledger, to the ledger's own
checkpoints table. Each checkpoint carries the previous checkpoint's
signature and the key's fingerprint, as CloudTrail's digest files do, so a ledger cut short, rewritten with recomputed
hashes, or rolled back is detected by Test-FlagAuditChain -PublicKeyPath, which whoever edits the ledger cannot forge
without the key.

It first verifies what is unsealed (a seal must never bless a tampered ledger; LedgerTampered otherwise), then records
a ledger_checkpoint_sealed event and seals the head that includes it. On a PostgreSQL ledger the whole chain is
verified against its last checkpoint, and the event and the checkpoint over it are written in one transaction under
the ledger's append lock, so no other agent's change can come between them. A ledger connected with
Connect-FlagLedger -SigningKeyPath is sealed after every change anyway; this command seals at a chosen moment (end of
day, before an audit, after a key rotation).
'@
    Parameters   = @{
        Ledger         = 'The ledger to seal, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger.'
        SigningKeyPath = 'A PEM file with the ECDSA P-256 private key to sign with. Defaults to the key the ledger was connected with; without either the command fails with CheckpointKeyRequired.'
        CheckpointPath = 'The checkpoint file to append to for a JSONL ledger; by default <ledger>.checkpoints.jsonl (or the file the ledger was connected with). A PostgreSQL ledger keeps its checkpoints in its own table, so this is refused there with CheckpointPathNotApplicable.'
        Reason         = 'Why the head is sealed now, recorded in the ledger_checkpoint_sealed event, for example End-of-day seal.'
        WhatIf         = 'Verifies the ledger and shows which head would be sealed with which key and where, without recording or signing anything (no event, no checkpoint row or line).'
        Confirm        = 'Asks for confirmation before recording the event and writing the checkpoint.'
        User           = 'Who is sealing, recorded as user_id; defaults to the CI actor or the OS user.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.Checkpoints.Checkpoint' = 'The checkpoint: Sequence, HeadHash, LedgerLength, Timestamp, PreviousSignature, KeyFingerprint and Signature.'
    }
    Examples     = @(
        @{
            Title   = 'Seal the session''s ledger at the end of the day'
            Code    = @'
New-FlagAuditCheckpoint -SigningKeyPath ./keys/audit-signing.pem -Reason 'End-of-day seal'
'@
            Remarks = 'Returns the checkpoint; keep its HeadHash somewhere else and pass it to Test-FlagAuditChain -ExpectedHead later.'
        }
        @{
            Title   = 'Create a key pair, then seal'
            Code    = @'
openssl ecparam -name prime256v1 -genkey -noout -out ./keys/audit-signing.pem
openssl ec -in ./keys/audit-signing.pem -pubout -out ./keys/audit-signing.pub.pem
New-FlagAuditCheckpoint -SigningKeyPath ./keys/audit-signing.pem
'@
            Remarks = 'Give the .pub.pem file to auditors; keep the private key where the ledger''s writers cannot read it if you can.'
        }
        @{
            Title   = 'Seal the shared PostgreSQL ledger before an audit'
            Code    = @'
$shared = Connect-FlagLedger -ConnectionString $env:DATABASE_URL -NoDefault
New-FlagAuditCheckpoint -Ledger $shared -SigningKeyPath ./keys/audit-signing.pem -Reason 'Before the Q3 audit'
Test-FlagAuditChain -Ledger $shared -PublicKeyPath ./keys/audit-signing.pub.pem
'@
            Remarks = 'The checkpoint goes into the ledger''s checkpoints table; Test-FlagAuditChain then reports it as the sealed head.'
        }
    )
    Notes        = @'
Error ids: CheckpointKeyRequired, CheckpointKeyNotFound, CheckpointKeyMalformed (not an ECDSA P-256 private key in PEM
form), CheckpointFileMalformed, CheckpointUnwritable, CheckpointPathNotApplicable (-CheckpointPath with a PostgreSQL
ledger), LedgerTampered, and a PostgreSQL ledger's own (LedgerUnavailable, ...). The private key is never written to
any output.
'@
    RelatedLinks = @('about_PMS.Flags', 'Test-FlagAuditChain', 'Connect-FlagLedger', 'Repair-FlagLedger')
}
