@{
    Synopsis     = 'Chooses the hash-chained JSONL audit ledger that flag changes are recorded in.'
    Description  = @'
Connect-FlagLedger makes a JSON-lines file the session's audit ledger. Every flag change writes one event to it with
the playbook's audit fields (timestamp, event_type, user_id, feature_flag, previous_state, new_state, environment,
reason, rollout_percentage, approval_ticket) plus event_id, sequence, store, outcome, details and a SHA-256 hash chain
(prev_hash, hash), so that any later edit, deletion, insertion or reordering is detected by Test-FlagAuditChain.

Opening a ledger verifies it: the events since the last checkpoint (all of them when there is none) are hashed and
chained, and a ledger that fails is refused with LedgerTampered or LedgerTornTail naming the sequence, unless
-SkipVerification is given. The default ledger is verified the same way the first time a session uses it.

The command checks that the ledger can be written and that its last event can be chained to, and fails if not (see
NOTES). A file that does not exist is created, with a warning that names it a NEW, empty ledger, so that a mistyped
name shows at once (in a CI log too) instead of silently splitting the trail; a folder is never created
(LedgerFolderNotFound). When Connect-FlagLedger fails, the session has no default ledger until a Connect succeeds:
the next change fails with LedgerNotConnected rather than being recorded in the previous or the default ledger. It then writes any audit events that were spooled for this ledger while it was
unavailable (see Disable-Flag) and warns how many it wrote.

Without Connect-FlagLedger the cmdlets use the default ledger and say so in their verbose output: the file named by
$env:PMS_FLAGS_LEDGER; otherwise audit.jsonl in the state folder, which is $env:PMS_FLAGS_STATE_DIR, else
$env:XDG_STATE_HOME/pms-flags, else ~/.local/state/pms-flags. The spool lives in the spool subfolder of the state
folder. A relative value in any of these variables (or in HOME) resolves against pwsh's current location. Under
GitHub Actions (GITHUB_ACTIONS=true) or Azure Pipelines (TF_BUILD=True) the default ledger is named in a warning.

In a protected environment a change that is not a switch-off needs a chosen ledger: Connect-FlagLedger in the session,
$env:PMS_FLAGS_LEDGER, or -Ledger on the command; otherwise it fails with LedgerNotConfigured and changes nothing.
Switching off still proceeds and warns that its event went to the default ledger, naming the file.
'@
    Parameters   = @{
        Path      = 'The JSONL ledger file, for example ./audit/flags.jsonl. A relative path is resolved against the current PowerShell location. A missing file is created (with a warning naming it a NEW, empty ledger); its folder must exist. An existing file is appended to, never rewritten.'
        ConnectionString = 'A PostgreSQL ledger shared by every agent: an Npgsql connection string (Host=db;Port=5432;Database=pms;Username=flags_writer;SslMode=Require) or a postgresql:// URL. The password may be in it, or come from -Credential, PGPASSWORD or a pgpass file (~/.pgpass or PGPASSFILE), as with psql; SslMode is honoured. It is never shown: the ledger''s Name and Identity are postgres:<host>:<port>/<database>/<schema>. The ledger creates and upgrades its own schema (advisory-locked, so two agents may connect at once); an agent connecting as the writer role (README) needs only INSERT and SELECT. An unreachable server is LedgerUnavailable, wrong credentials LedgerAuthenticationFailed, missing rights LedgerPermissionDenied.'
        Credential = 'The user name and password for the PostgreSQL ledger, instead of those in the connection string.'
        Schema = 'The PostgreSQL schema that holds the ledger''s tables (events, checkpoints, schema_version); default pms_flags. A plain lower-case identifier (LedgerSchemaInvalid otherwise).'
        TimeoutSec = 'Seconds to wait for the PostgreSQL connection (default 15).'
        NoDefault = 'Returns the ledger object without making it the session''s default ledger. Pass the object to -Ledger of a changing cmdlet, Get-FlagAudit or Test-FlagAuditChain.'
        SigningKeyPath   = 'A PEM file with an ECDSA P-256 private key (openssl ecparam -name prime256v1 -genkey -noout). Every append is then sealed by a signed checkpoint (sequence, head hash, time, previous checkpoint''s signature, key fingerprint), so truncation and a consistent rewrite are detected. The key is read before anything else; a missing or malformed file fails with CheckpointKeyNotFound or CheckpointKeyMalformed and changes nothing. With -ConnectionString the checkpoints are rows of the ledger''s own append-only <schema>.checkpoints table, written in the same transaction as the events they seal.'
        CheckpointPath   = 'The file checkpoints are kept in; by default <ledger>.checkpoints.jsonl beside the ledger. Keep a copy elsewhere (or pass a path on other storage) so that whoever can rewrite the ledger cannot rewrite both.'
        SkipVerification = 'Uses a ledger even though it fails verification on open (LedgerTampered, LedgerTornTail would otherwise stop the connect). The next event written records in its details that verification was skipped, and what it had found (a JSONL ledger; a PostgreSQL ledger only warns).'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Ledger.JsonlLedger' = 'The connected ledger (Path and Name). Pass it to -Ledger.'
        'PMS.Flags.Engine.Ledger.Postgres.PostgresLedger' = 'The connected PostgreSQL ledger (Name, Identity, Host, Port, Database, Schema, User). Pass it to -Ledger.'
    }
    Examples     = @(
        @{
            Title   = 'Record changes in a ledger kept with the repository'
            Code    = @'
Connect-FlagStore -Path ./apps/backend/config/feature_flags.json
Connect-FlagLedger -Path ./audit/feature-flags.jsonl
Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'Gradual rollout - Phase 1 (5% of users)'
'@
            Remarks = 'The change is recorded as a feature_flag_toggled event in ./audit/feature-flags.jsonl.'
        }
        @{
            Title   = 'Seal every change with a signed checkpoint'
            Code    = @'
Connect-FlagLedger -Path ./audit/feature-flags.jsonl -SigningKeyPath ./keys/audit-signing.pem
'@
            Remarks = 'Each audited change is followed by a checkpoint in ./audit/feature-flags.jsonl.checkpoints.jsonl; Test-FlagAuditChain -PublicKeyPath verifies them.'
        }
        @{
            Title   = 'See where the default ledger is'
            Code    = 'Get-FlagAudit -First 1 -Verbose'
            Remarks = 'With no ledger connected, the verbose output names the default ledger file the session is using.'
        }
        @{
            Title   = 'Check a second ledger without switching to it'
            Code    = @'
$archive = Connect-FlagLedger -Path ./audit/2025-q4.jsonl -NoDefault
Test-FlagAuditChain -Ledger $archive
'@
            Remarks = 'Verifies another ledger while the session keeps recording into its current one.'
        }
        @{
            Title   = 'Share one ledger between laptops, scheduled jobs and pipeline agents'
            Code    = @'
$env:PGPASSWORD = $env:FLAGS_LEDGER_PASSWORD   # or -Credential, or a pgpass file
Connect-FlagLedger -ConnectionString 'Host=db.internal;Port=5432;Database=pms;Username=flags_writer;SslMode=Require'
Step-FlagRollout -Flag telehealth_appointments_enabled -Environment production
'@
            Remarks = 'Every agent appends to one hash-chained trail in PostgreSQL; two agents stepping one rollout make one advance.'
        }
    )
    Notes        = @'
Error ids: LedgerTampered (verification on open failed; run Test-FlagAuditChain), CheckpointKeyNotFound,
CheckpointKeyMalformed, CheckpointFileMalformed (the checkpoint file holds something else), LedgerFolderNotFound (the folder does not exist; it is never created), LedgerUnwritable (the file cannot be
created or opened for appending), LedgerTornTail (the
last line is incomplete, as an interrupted write leaves it) and LedgerMalformed (the last line is not an audit event):
nothing can be chained to such a ledger until it is repaired; Test-FlagAuditChain -Path shows where it breaks.

Appends are serialised across processes by a lock file beside the ledger (<ledger>.lock) and flushed to disk before a
command reports success.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-FlagAudit', 'Test-FlagAuditChain', 'Export-FlagAudit', 'New-FlagAuditCheckpoint', 'Repair-FlagLedger')
}
