@{
    Synopsis     = 'Lists the tables of a PostgreSQL database, as psql''s \dt does.'
    Description  = @'
Get-PmsDatabaseTable is the playbook's psql $DATABASE_URL -c "\dt", used to verify the structure after a migration or
a rollback. It runs psql's own \dt query through Npgsql: ordinary and partitioned tables visible on the search path,
system schemas excluded, ordered by schema and name. Each row has Schema, Name, Type and Owner. It changes nothing.
'@
    Parameters   = @{
        Name             = 'Only tables whose name matches this wildcard pattern (case-insensitive).'
        ConnectionString = 'The database: an Npgsql connection string or a postgresql:// URL. Defaults to $env:DATABASE_URL.'
        TimeoutSec       = 'Seconds to wait for the connection; default 15.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Migrations.DatabaseTable' = 'Schema, Name, Type (table or partitioned table) and Owner.'
    }
    Examples     = @(
        @{
            Title   = 'Verify the structure after a planned rollback (playbook step 4)'
            Code    = 'Get-PmsDatabaseTable -ConnectionString $env:DATABASE_URL'
            Remarks = 'The same rows as \dt: schema, name, type and owner.'
        }
        @{
            Title   = 'Check that a table is gone'
            Code    = 'if (Get-PmsDatabaseTable -Name telehealth_sessions) { throw ''telehealth_sessions is still there.'' }'
            Remarks = 'Nothing is returned when no table matches.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.GetPmsDatabaseTableCommand"): DatabaseConnectionStringMissing,
DatabaseConnectionStringInvalid, DatabaseUnreachable, DatabaseAuthenticationFailed, DatabaseError.
'@
    RelatedLinks = @('about_PMS.Flags', 'Test-PmsDatabase', 'Get-PmsMigration')
}
