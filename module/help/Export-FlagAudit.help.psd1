@{
    Synopsis     = 'Writes audit events to a JSON or CSV file for auditors, with the ledger''s snake_case field names.'
    Description  = @'
Export-FlagAudit collects the audit events piped to it (from Get-FlagAudit) and writes them to one file, in pipeline
order, with exactly the ledger's field names: timestamp, event_type, user_id, feature_flag, previous_state,
new_state, environment, reason, rollout_percentage, approval_ticket, event_id, sequence, rollout_id, store,
previous_percentage, outcome, details, prev_hash and hash. JSON keeps values exactly as recorded; in CSV a text cell
that starts with = + - @ (a formula to a spreadsheet, e.g. a reason of =HYPERLINK(...)) gets a leading single quote,
as OWASP advises.

-Format Html writes one self-contained report (no script, no external resource, so it opens anywhere and can be
attached to an audit): the selection, the chain and checkpoint verdict with the sealed head, per flag and environment
a timeline of exposure drawn as inline SVG (percentage over time, with changes, approvals, guardrail breaches and
rollbacks marked), and a table of who changed what and why.

-Format Json writes an indented JSON array of event objects. -Format Csv writes a header row and one RFC 4180 row per
event (details as compact JSON). Each event is written as it arrives, so an export of millions of events holds one
event in memory, not the trail (the Html report keeps its rows and timeline points in scratch files beside the target
until the end, since its summary and timelines come first). Everything goes to a temporary file that is fsynced and
renamed at the end, so a partial export never looks complete: if the pipeline fails or is stopped, the temporary
files are removed and the target is as it was. An existing file is only replaced with -Force.
'@
    Parameters   = @{
        InputObject = 'The audit events to export, usually piped from Get-FlagAudit.'
        Format      = 'The file format: Json (an array of event objects), Csv (a header row of field names, one row per event), Html (a self-contained report for auditors with timelines drawn as inline SVG) or Jsonl (the ledger''s own line for each event, with its stored hash: an export of a whole trail, from a file or from PostgreSQL, verifies with Test-FlagAuditChain -Path like a ledger file; a filtered selection or pending events leave gaps the verifier reports).'
        Ledger      = 'Html only: the ledger whose chain and checkpoint verdict the report states; defaults to the session''s ledger, or the default ledger.'
        PublicKeyPath = 'Html only: PEM public keys trusted for checkpoint signatures, so the report can state that the sealed head''s signature was verified. Works for a JSONL file and for a PostgreSQL ledger (its checkpoints table).'
        Path        = 'The file to write, for example ./audit-2025-q1.json. A relative path is resolved against the current location. If the file exists, the command fails with ExportFileExists unless -Force is given.'
        Force       = 'Replaces the file if it already exists.'
        WhatIf      = 'Shows the file that would be written and how many events, without writing it.'
        Confirm     = 'Asks for confirmation before the first event is written (the number of events is not known yet then).'
    }
    Inputs       = @{
        'PMS.Flags.Engine.Ledger.AuditEvent' = 'Audit events from Get-FlagAudit.'
    }
    Outputs      = @{
        'System.IO.FileInfo' = 'The file that was written.'
    }
    Examples     = @(
        @{
            Title   = 'Export a quarter of production changes as JSON'
            Code    = 'Get-FlagAudit -Environment production -Since ''2025-01-01'' -Until ''2025-03-31T23:59:59Z'' | Export-FlagAudit -Format Json -Path ./production-2025-q1.json'
            Remarks = 'Writes the events as a JSON array with the playbook''s field names.'
        }
        @{
            Title   = 'Refresh a CSV report'
            Code    = 'Get-FlagAudit -EventType feature_flag_toggled | Export-FlagAudit -Format Csv -Path ./flag-changes.csv -Force'
            Remarks = '-Force replaces the report written last time.'
        }
        @{
            Title   = 'Write a report an auditor can open anywhere'
            Code    = 'Get-FlagAudit -Flag telehealth_appointments_enabled | Export-FlagAudit -Format Html -Path ./telehealth-audit.html -PublicKeyPath ./keys/audit-signing.pub.pem'
            Remarks = 'One HTML file with the verdict, the exposure timeline and every change with its reason.'
        }
    )
    Notes        = @'
Error ids: ExportFileExists (the file exists and -Force was not given; it is left untouched), ExportUnwritable.
An export keeps prev_hash and hash, so an auditor can re-check the chain of a complete export.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-FlagAudit', 'Test-FlagAuditChain')
}
