using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// The ledger's own tables in their own schema, created and upgraded by numbered migrations. Every migration runs in
/// one transaction under a transaction-scoped advisory lock, so two agents connecting at once apply each version once
/// and the second sees the first's work. A ledger whose schema is already current is opened with one read and needs no
/// DDL rights: the writer role (README) connects without being able to create or change anything.
/// </summary>
public static partial class PostgresLedgerSchema
{
    public const string DefaultSchema = "pms_flags";

    /// <summary>The migrations, in order; a released entry is never edited, a change is a new entry.</summary>
    private static readonly IReadOnlyList<(int Version, string Description, string Sql)> Migrations = new[]
    {
        (1, "events, checkpoints, append-only triggers, query indexes", """
            CREATE TABLE {0}.events (
                sequence    bigint      PRIMARY KEY CHECK (sequence > 0),
                event_id    text        NOT NULL UNIQUE,
                ts          timestamptz NOT NULL,
                event_type  text        NOT NULL,
                user_id     text,
                feature_flag text,
                environment text,
                rollout_id  text,
                prev_hash   text,
                hash        text        NOT NULL,
                line        text        NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            );
            COMMENT ON TABLE {0}.events IS 'PMS.Flags audit ledger: one canonical, hash-chained event a row (line is the exact JSONL line). Append-only.';
            CREATE INDEX events_flag_ts ON {0}.events (lower(feature_flag), ts);
            CREATE INDEX events_flag_env_seq ON {0}.events (lower(feature_flag), lower(environment), sequence);
            CREATE INDEX events_rollout_seq ON {0}.events (lower(rollout_id), sequence) WHERE rollout_id IS NOT NULL;
            CREATE INDEX events_ts ON {0}.events (ts);
            CREATE INDEX events_user_seq ON {0}.events (lower(user_id), sequence);
            CREATE INDEX events_type_seq ON {0}.events (lower(event_type), sequence);
            CREATE TABLE {0}.checkpoints (
                number      bigint      PRIMARY KEY CHECK (number > 0),
                sequence    bigint      NOT NULL,
                head_hash   text        NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now(),
                document    text        NOT NULL
            );
            COMMENT ON TABLE {0}.checkpoints IS 'PMS.Flags signed checkpoints sealing the events chain (document: the signed checkpoint as written by the checkpoint code). Append-only.';
            CREATE FUNCTION {0}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the PMS.Flags ledger table %.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'P0001', HINT = 'Archive with an export; never change or delete recorded events.';
            END
            $$;
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {0}.events FOR EACH ROW EXECUTE FUNCTION {0}.refuse_change();
            CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {0}.events FOR EACH STATEMENT EXECUTE FUNCTION {0}.refuse_change();
            CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON {0}.checkpoints FOR EACH ROW EXECUTE FUNCTION {0}.refuse_change();
            CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON {0}.checkpoints FOR EACH STATEMENT EXECUTE FUNCTION {0}.refuse_change();
            """),
    };

    public static int CurrentVersion => Migrations[^1].Version;

    /// <summary>The schema name as given, if it is a plain lower-case identifier; anything else is refused rather than quoted.</summary>
    public static string Validate(string? schema)
    {
        var name = string.IsNullOrEmpty(schema) ? DefaultSchema : schema;
        if (!SchemaPattern().IsMatch(name) || name.StartsWith("pg_", StringComparison.Ordinal))
        {
            throw new LedgerException(LedgerFailure.Refused, PostgresLedgerFailures.SchemaInvalid, FlagsErrorKind.InvalidArgument, $"The ledger schema name '{name}' is not a plain identifier: use lower-case letters, digits and '_' (at most 63, not starting with a digit or pg_).", name);
        }

        return name;
    }

    /// <summary>A 64-bit advisory lock key for one purpose on one schema, the same in every process.</summary>
    public static long LockKey(string schema, string purpose)
        => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"pms-flags-ledger:{purpose}:{schema}")), 0);

    /// <summary>Brings the schema to <see cref="CurrentVersion"/>; a no-op read when it already is.</summary>
    internal static async Task EnsureCurrentAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        var installed = await ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
        if (installed == CurrentVersion)
        {
            return;
        }

        if (installed > CurrentVersion)
        {
            throw TooNew(schema, installed);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", LockKey(schema, "migrate"));
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {schema}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken).ConfigureAwait(false);

        // Read again under the lock: another agent may have migrated while this one waited.
        installed = await ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
        if (installed > CurrentVersion)
        {
            throw TooNew(schema, installed);
        }

        foreach (var (version, description, sql) in Migrations.Where(m => m.Version > installed))
        {
            await ExecuteAsync(connection, transaction, sql.Replace("{0}", schema, StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand($"INSERT INTO {schema}.schema_version (version, description) VALUES (@version, @description)", connection, transaction);
            record.Parameters.AddWithValue("version", version);
            record.Parameters.AddWithValue("description", description);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        exists.Parameters.AddWithValue("table", schema + ".schema_version");
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            return 0;
        }

        await using var select = new NpgsqlCommand($"SELECT COALESCE(max(version), 0) FROM {schema}.schema_version", connection);
        return Convert.ToInt32(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static LedgerException TooNew(string schema, int installed)
        => new(LedgerFailure.Refused, PostgresLedgerFailures.SchemaTooNew, FlagsErrorKind.InvalidOperation, $"The ledger schema '{schema}' is at version {installed}, newer than this PMS.Flags knows ({CurrentVersion}); update the module before using this ledger.", schema);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaPattern();
}
