using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// The database queries the migration commands need, through Npgsql. Only the database commands reach this class, so
/// Npgsql is loaded the first time one of them runs and never by the flag commands. Failures become stable ErrorIds
/// with messages that name the server (never the password). Transient failures are retried (<see cref="PostgresRetryPipeline"/>).
/// </summary>
public sealed class PostgresDatabase
{
    private readonly DatabaseTarget target;

    public PostgresDatabase(DatabaseTarget target)
    {
        this.target = target;
    }

    /// <summary>The rows of alembic_version; empty when the table is missing (a database never migrated is at base) or empty.</summary>
    public Task<IReadOnlyList<string>> ReadCurrentRevisionsAsync(CancellationToken cancellationToken)
        => WithConnection<IReadOnlyList<string>>(async (connection, ct) =>
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass('alembic_version') IS NOT NULL", connection);
            if (!(bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                return Array.Empty<string>();
            }

            await using var select = new NpgsqlCommand("SELECT version_num FROM alembic_version ORDER BY version_num", connection);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var rows = new List<string>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add(reader.GetString(0));
            }

            return rows;
        }, cancellationToken);

    public async Task<DatabaseProbe> ProbeAsync(CancellationToken cancellationToken)
    {
        var connectWatch = Stopwatch.StartNew();
        return await WithConnection(async (connection, ct) =>
        {
            var connectTime = connectWatch.Elapsed;
            var pingWatch = Stopwatch.StartNew();
            await using (var ping = new NpgsqlCommand("SELECT 1", connection))
            {
                await ping.ExecuteScalarAsync(ct).ConfigureAwait(false);
            }

            var latency = pingWatch.Elapsed;
            const string Sql = "SELECT version(), current_setting('server_version'), current_database(), current_user, "
                               + "COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), "
                               + "(SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl)";
            await using var command = new NpgsqlCommand(Sql, connection);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            return new DatabaseProbe
            {
                ServerVersion = reader.GetString(0),
                ServerVersionNumber = reader.GetString(1),
                Database = reader.GetString(2),
                User = reader.GetString(3),
                Tls = reader.GetBoolean(4),
                TlsVersion = reader.IsDBNull(5) ? null : reader.GetString(5),
                Host = target.Host,
                Port = target.Port,
                Latency = latency,
                ConnectTime = connectTime,
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>psql's \dt query: ordinary and partitioned tables visible on the search path, system schemas excluded.</summary>
    public Task<IReadOnlyList<DatabaseTable>> ListTablesAsync(CancellationToken cancellationToken)
        => WithConnection<IReadOnlyList<DatabaseTable>>(async (connection, ct) =>
        {
            const string Sql = "SELECT n.nspname, c.relname, CASE c.relkind WHEN 'p' THEN 'partitioned table' ELSE 'table' END, pg_catalog.pg_get_userbyid(c.relowner) "
                               + "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                               + "WHERE c.relkind IN ('r','p') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' "
                               + "AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1, 2";
            await using var command = new NpgsqlCommand(Sql, connection);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var tables = new List<DatabaseTable>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                tables.Add(new DatabaseTable { Schema = reader.GetString(0), Name = reader.GetString(1), Type = reader.GetString(2), Owner = reader.GetString(3) });
            }

            return tables;
        }, cancellationToken);

    private async Task<T> WithConnection<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await PostgresRetryPipeline.Instance.ExecuteAsync(
                async ct =>
                {
                    await using var connection = target.CreateConnection();
                    await connection.OpenAsync(ct).ConfigureAwait(false);
                    return await work(connection, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState is "28P01" or "28000")
        {
            throw new FlagsException(MigrationErrorIds.AuthenticationFailed, FlagsErrorKind.AuthenticationError, $"{target.Name}: the server refused the credentials ({ex.SqlState}: {target.Mask(ex.MessageText)}).", target.Name);
        }
        catch (PostgresException ex)
        {
            throw new FlagsException(MigrationErrorIds.DatabaseError, FlagsErrorKind.InvalidOperation, $"{target.Name}: {ex.SqlState}: {target.Mask(ex.MessageText)}", target.Name);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var cause = ex.InnerException is SocketException socket ? socket.Message : ex is OperationCanceledException ? "timed out" : ex.Message;
            throw new FlagsException(MigrationErrorIds.DatabaseUnreachable, FlagsErrorKind.ConnectionError, $"Cannot reach the database {target.Name}: {target.Mask(cause)}", target.Name);
        }
    }
}
