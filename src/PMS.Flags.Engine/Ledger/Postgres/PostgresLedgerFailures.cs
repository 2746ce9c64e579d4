using System.Net.Sockets;
using Npgsql;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// Turns what Npgsql and the server throw into <see cref="LedgerException"/>s: "cannot reach it now" is Unavailable
/// (the audit trail spools after a change), anything a person must fix (credentials, rights, a missing database) is
/// Refused. Messages name the server, never the password, and are scrubbed of it in case a driver ever quotes it.
/// </summary>
public static class PostgresLedgerFailures
{
    /// <summary>The server cannot be reached, went away, or a writer held the ledger lock too long.</summary>
    public const string Unavailable = "LedgerUnavailable";

    /// <summary>The server refused the credentials.</summary>
    public const string AuthenticationFailed = "LedgerAuthenticationFailed";

    /// <summary>The role lacks a right the ledger needs (creating its schema, inserting into its tables).</summary>
    public const string PermissionDenied = "LedgerPermissionDenied";

    /// <summary>The database named in the connection string does not exist.</summary>
    public const string DatabaseNotFound = "LedgerDatabaseNotFound";

    /// <summary>Any other error the server answered with.</summary>
    public const string DatabaseError = "LedgerDatabaseError";

    /// <summary>TLS could not be set up as the connection string's SslMode demands (no TLS on the server, an untrusted certificate).</summary>
    public const string TlsFailed = "LedgerTlsFailed";

    /// <summary>The -Schema name is not a plain identifier.</summary>
    public const string SchemaInvalid = "LedgerSchemaInvalid";

    /// <summary>The schema was created by a newer PMS.Flags.</summary>
    public const string SchemaTooNew = "LedgerSchemaTooNew";

    public static bool IsDriverFailure(Exception ex, CancellationToken cancellationToken)
        => ex is NpgsqlException or SocketException or TimeoutException or IOException or InvalidOperationException { Source: "Npgsql" }
           || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    public static LedgerException Map(Exception ex, DatabaseTarget target, string ledgerName)
    {
        if (ex is LedgerException ledgerException)
        {
            return ledgerException;
        }

        if (ex is PostgresException pg)
        {
            var text = target.Mask($"{pg.SqlState}: {pg.MessageText}");
            return pg.SqlState switch
            {
                "28P01" or "28000" => new LedgerException(LedgerFailure.Refused, AuthenticationFailed, FlagsErrorKind.AuthenticationError, $"{ledgerName}: the server refused the credentials ({text}).", ledgerName),
                "42501" => new LedgerException(LedgerFailure.Refused, PermissionDenied, FlagsErrorKind.PermissionDenied, $"{ledgerName}: permission denied ({text}). The ledger's schema is created by a role that may create it; agents append as the writer role (README: PostgreSQL ledger).", ledgerName),
                "3D000" => new LedgerException(LedgerFailure.Refused, DatabaseNotFound, FlagsErrorKind.ObjectNotFound, $"{ledgerName}: the database does not exist ({text}).", ledgerName),
                "55P03" => new LedgerException(LedgerFailure.Unavailable, Unavailable, FlagsErrorKind.ConnectionError, $"{ledgerName}: another writer held the ledger lock too long ({text}); nothing was appended.", ledgerName),
                "57P01" or "57P02" or "57P03" or "53300" => new LedgerException(LedgerFailure.Unavailable, Unavailable, FlagsErrorKind.ConnectionError, $"{ledgerName}: the server is not available ({text}).", ledgerName),
                _ when pg.SqlState.StartsWith("08", StringComparison.Ordinal) => new LedgerException(LedgerFailure.Unavailable, Unavailable, FlagsErrorKind.ConnectionError, $"{ledgerName}: the connection failed ({text}).", ledgerName),
                _ => new LedgerException(LedgerFailure.Refused, DatabaseError, FlagsErrorKind.InvalidOperation, $"{ledgerName}: {text}", ledgerName),
            };
        }

        if (TlsFailure(ex) is { } tls)
        {
            // Not an outage that passes: the same connection string fails the same way until a person fixes the
            // certificate, the CA or the server's TLS setup, so it is refused, never waited out or spooled through.
            return new LedgerException(LedgerFailure.Refused, TlsFailed, FlagsErrorKind.AuthenticationError, $"{ledgerName}: a TLS connection as SslMode={target.SslMode} demands could not be made ({target.Mask(tls)}). Check the server's certificate and the Root Certificate (or PGSSLROOTCERT) it is checked against.", ledgerName);
        }

        var cause = ex.InnerException is SocketException socket ? socket.Message : ex is OperationCanceledException or TimeoutException ? "timed out" : ex.Message;
        return new LedgerException(LedgerFailure.Unavailable, Unavailable, FlagsErrorKind.ConnectionError, $"Cannot reach the ledger database {ledgerName}: {target.Mask(cause)}", ledgerName);
    }

    private static string? TlsFailure(Exception ex)
    {
        for (var current = ex; current is not null; current = current.InnerException)
        {
            if (current is System.Security.Authentication.AuthenticationException)
            {
                return current.Message;
            }

            // Npgsql's own words when the server answers the TLS request with "no" (it has ssl = off).
            if (current is NpgsqlException && current.Message.Contains("SSL connection requested", StringComparison.Ordinal))
            {
                return current.Message;
            }
        }

        return null;
    }
}
