@{
    Synopsis     = 'Shows where a database stands against its alembic migrations -- current revision, heads, pending revisions and history, each classified -- without running Python.'
    Description  = @'
Get-PmsMigration is the playbook's "alembic current" and "alembic history --verbose" in one object. It reads the
alembic_version table through Npgsql and the revision graph from the migration scripts' text (revision, down_revision
including merge tuples, branch_labels, the docstring), so no Python process is started.

The result has Current (the rows of alembic_version; empty -- shown as <base> -- when the table is missing or empty),
Heads, IsAtHead, Pending (the revisions "alembic upgrade heads" would apply, in order) and History (every revision,
heads first, as alembic history lists them). Each revision carries Revision, DownRevisions, BranchLabels, Message,
Path, IsHead, IsBranchPoint, IsMergePoint and a Classification of its downgrade():

  Destructive  downgrade() drops a table or a column (op.drop_table, op.drop_column, batch_op.drop_column) or runs
               raw SQL containing DROP, DELETE or TRUNCATE: running it destroys data.
  Reversible   none of that: structure changes that keep the data (indexes, renames, added columns, constraints).
  Unknown      the source cannot be judged without running it: a helper call, SQL built at run time, a loop,
               a downgrade that raises, or no downgrade() at all.

ClassificationReason names the statement that decided it. Invoke-PmsMigration refuses a downgrade that crosses a
Destructive or Unknown revision unless -AllowDataLoss is given.

A revision recorded in the database that no script defines is reported in UnknownCurrent, with a warning.
'@
    Parameters   = @{
        ScriptLocation   = 'The alembic project: its alembic.ini (script_location and version_locations are honoured), the script directory holding env.py, or the versions folder itself. A folder without revision scripts fails with MigrationScriptsWithoutRevisions; a missing path with MigrationScriptLocationNotFound.'
        ConnectionString = 'The database: an Npgsql connection string (Host=…;Port=…;Username=…;Password=…;Database=…) or a postgresql:// URL. Defaults to $env:DATABASE_URL, as the playbook uses it. The password is never shown in output, verbose text, errors or the ledger; prefer DATABASE_URL over typing it on the command line.'
        TimeoutSec       = 'Seconds to wait for the connection; default 15. A server that cannot be reached fails with DatabaseUnreachable.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Migrations.MigrationStatus' = 'Database (host:port/database as user), ScriptLocation, Current, Heads, IsAtHead, Pending, History, UnknownCurrent, and CurrentText/HeadsText/PendingCount for display.'
    }
    Examples     = @(
        @{
            Title   = 'Check the schema after a deployment (playbook Step 2, "alembic current")'
            Code    = @'
$env:DATABASE_URL = 'postgresql://pms@db.internal:5432/pms'
Get-PmsMigration -ScriptLocation ./apps/backend/alembic.ini
'@
            Remarks = 'One row: the database, its current revision, the heads, IsAtHead and the number of pending revisions.'
        }
        @{
            Title   = 'History with classifications ("alembic history --verbose")'
            Code    = 'Get-PmsMigration ./apps/backend/alembic.ini | Select-Object -ExpandProperty History | Format-Table Revision, DownRevision, Classification, Message'
            Remarks = 'Lists every revision heads first; Destructive and Unknown revisions are the ones a downgrade will not cross without -AllowDataLoss.'
        }
        @{
            Title   = 'Fail a pipeline when migrations are pending'
            Code    = 'if (-not (Get-PmsMigration -ScriptLocation ./alembic.ini).IsAtHead) { throw ''The database is not at head.'' }'
            Remarks = 'IsAtHead is true only when the database is at exactly the scripts'' heads.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.GetPmsMigrationCommand"):
MigrationScriptLocationNotFound, MigrationScriptsWithoutRevisions, MigrationScriptUnreadable (a revision header that
is not a literal, or a revision defined twice), MigrationGraphBroken (a down_revision no script defines),
DatabaseConnectionStringMissing, DatabaseConnectionStringInvalid, DatabaseUnreachable, DatabaseAuthenticationFailed,
DatabaseError.
'@
    RelatedLinks = @('about_PMS.Flags', 'Invoke-PmsMigration', 'Test-PmsDatabase', 'Get-PmsDatabaseTable')
}
