@{
    Synopsis     = 'Tests the connection to a PostgreSQL database: server version, latency, database, user and whether TLS is in use.'
    Description  = @'
Test-PmsDatabase is the playbook's connectivity check, psql $DATABASE_URL -c "SELECT version();", as an object. It
connects through Npgsql, times a trivial query on the open connection (Latency; ConnectTime is the connection
itself), and reads version(), server_version, current_database(), current_user and, from pg_stat_ssl, whether this
connection uses TLS and which version. It changes nothing.

A server that cannot be reached fails with DatabaseUnreachable; refused credentials with DatabaseAuthenticationFailed.
Neither message, nor anything else the command prints, contains the password.
'@
    Parameters   = @{
        ConnectionString = 'The database: an Npgsql connection string or a postgresql:// URL (sslmode=require is honoured). Defaults to $env:DATABASE_URL.'
        TimeoutSec       = 'Seconds to wait for the connection; default 15.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Migrations.DatabaseProbe' = 'Database, User, Host, Port, ServerVersion (version()), ServerVersionNumber, Latency, LatencyMilliseconds, ConnectTime, Tls and TlsVersion.'
    }
    Examples     = @(
        @{
            Title   = 'The playbook''s "SELECT version()" check'
            Code    = 'Test-PmsDatabase -ConnectionString $env:DATABASE_URL'
            Remarks = 'Shows the database, the user, the server version, the query latency in milliseconds and whether TLS is in use.'
        }
        @{
            Title   = 'Require TLS in production'
            Code    = 'if (-not (Test-PmsDatabase).Tls) { throw ''The connection to the production database is not encrypted.'' }'
            Remarks = 'Tls comes from pg_stat_ssl for this very connection.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.TestPmsDatabaseCommand"): DatabaseConnectionStringMissing,
DatabaseConnectionStringInvalid, DatabaseUnreachable, DatabaseAuthenticationFailed, DatabaseError.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-PmsDatabaseTable', 'Get-PmsMigration')
}
