using Npgsql;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// Checkpoints in the ledger's own append-only <c>&lt;schema&gt;.checkpoints</c> table, one row each: the document is the
/// exact checkpoint line a JSONL store would write, and number counts them from 1. Bound to the appending transaction
/// (<see cref="Within"/>), a checkpoint commits with the events it seals or not at all.
/// </summary>
public sealed class PostgresCheckpointStore : ICheckpointStore
{
    private const int CopyBatchSize = 1000;
    private readonly DatabaseTarget target;
    private readonly string schema;
    private readonly NpgsqlConnection? connection;
    private readonly NpgsqlTransaction? transaction;

    public PostgresCheckpointStore(DatabaseTarget target, string schema)
        : this(target, schema, null, null)
    {
    }

    private PostgresCheckpointStore(DatabaseTarget target, string schema, NpgsqlConnection? connection, NpgsqlTransaction? transaction)
    {
        this.target = target;
        this.schema = PostgresLedgerSchema.Validate(schema);
        this.connection = connection;
        this.transaction = transaction;
        Name = $"Postgres:{target.Host}:{target.Port}/{target.Database}/{this.schema}.checkpoints";
    }

    public string Name { get; }

    public bool Exists => Scalar($"SELECT EXISTS (SELECT 1 FROM {schema}.checkpoints)") is true;

    /// <summary>The same table seen through an open transaction, so appends commit or roll back with it.</summary>
    public PostgresCheckpointStore Within(NpgsqlConnection open, NpgsqlTransaction current) => new(target, schema, open, current);

    public IEnumerable<Checkpoint> ReadAll()
    {
        var owned = connection is null ? Open() : null;
        try
        {
            using var command = new NpgsqlCommand($"SELECT number, document FROM {schema}.checkpoints ORDER BY number", owned ?? connection, transaction);
            using var reader = Execute(command);
            while (Read(reader))
            {
                yield return Parse(reader.GetInt64(0), reader.GetString(1));
            }
        }
        finally
        {
            owned?.Dispose();
        }
    }

    public Checkpoint? ReadLast()
    {
        var owned = connection is null ? Open() : null;
        try
        {
            using var command = new NpgsqlCommand($"SELECT number, document FROM {schema}.checkpoints ORDER BY number DESC LIMIT 1", owned ?? connection, transaction);
            using var reader = Execute(command);
            return Read(reader) ? Parse(reader.GetInt64(0), reader.GetString(1)) : null;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>
    /// The checkpoint that seals exactly this head with this key, or null. Only the newest rows are looked at (a backward
    /// read of the primary key): it is asked right after the seal committed, and the table has no index on sequence.
    /// </summary>
    public Checkpoint? FindSealing(long sequence, string headHash, string keyFingerprint)
    {
        var owned = connection is null ? Open() : null;
        try
        {
            using var command = new NpgsqlCommand($"SELECT number, document FROM (SELECT number, document, sequence, head_hash FROM {schema}.checkpoints ORDER BY number DESC LIMIT 100) recent WHERE sequence = @sequence AND head_hash = @head ORDER BY number DESC", owned ?? connection, transaction);
            command.Parameters.AddWithValue("sequence", sequence);
            command.Parameters.AddWithValue("head", headHash);
            using var reader = Execute(command);
            while (Read(reader))
            {
                var checkpoint = Parse(reader.GetInt64(0), reader.GetString(1));
                if (checkpoint.KeyFingerprint == keyFingerprint)
                {
                    return checkpoint;
                }
            }

            return null;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    public void Append(Checkpoint checkpoint)
    {
        var owned = connection is null ? Open() : null;
        try
        {
            using var command = new NpgsqlCommand(
                $"INSERT INTO {schema}.checkpoints (number, sequence, head_hash, created_at, document) "
                + $"SELECT coalesce(max(number), 0) + 1, @sequence, @head, @created, @document FROM {schema}.checkpoints",
                owned ?? connection,
                transaction);
            command.Parameters.AddWithValue("sequence", checkpoint.Sequence);
            command.Parameters.AddWithValue("head", checkpoint.HeadHash);
            command.Parameters.Add(new NpgsqlParameter<DateTime>("created", checkpoint.Timestamp.UtcDateTime));
            command.Parameters.AddWithValue("document", checkpoint.ToLine());
            command.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The checkpoint table '{Name}' cannot be written ({ex.Message}).", Name, ex);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>
    /// Appends checkpoints copied from another ledger's store, unchanged, in one transaction under the ledger's append
    /// lock, so they land together or not at all and no agent's seal can come between them. Refused when the table no
    /// longer holds exactly <paramref name="alreadyPresent"/> checkpoints (someone sealed since the copy was planned).
    /// </summary>
    public long AppendCopied(IEnumerable<Checkpoint> checkpoints, long alreadyPresent)
    {
        try
        {
            using var opened = Open();
            using var copying = opened.BeginTransaction();
            using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", opened, copying))
            {
                lockCommand.Parameters.AddWithValue("key", PostgresLedgerSchema.LockKey(schema, "append"));
                lockCommand.ExecuteNonQuery();
            }

            using (var count = new NpgsqlCommand($"SELECT coalesce(max(number), 0) FROM {schema}.checkpoints", opened, copying))
            {
                var present = (long)count.ExecuteScalar()!;
                if (present != alreadyPresent)
                {
                    throw new FlagsException("AuditCopyTargetDiverged", FlagsErrorKind.InvalidOperation, $"The checkpoint table '{Name}' holds {present} checkpoint(s), not the {alreadyPresent} it held when the copy was checked: something else sealed the target during the copy. Run the copy again.", Name);
                }
            }

            // In batches of rows sent as arrays: a ledger sealed after every change has as many checkpoints as events.
            long appended = 0;
            foreach (var batch in checkpoints.Chunk(CopyBatchSize))
            {
                using var insert = new NpgsqlCommand(
                    $"INSERT INTO {schema}.checkpoints (number, sequence, head_hash, created_at, document) "
                    + "SELECT @first + n - 1, s, h, c, d FROM unnest(@sequence, @head, @created, @document) WITH ORDINALITY AS t(s, h, c, d, n)",
                    opened,
                    copying);
                insert.Parameters.AddWithValue("first", alreadyPresent + appended + 1);
                insert.Parameters.Add(new NpgsqlParameter<long[]>("sequence", batch.Select(c => c.Sequence).ToArray()));
                insert.Parameters.Add(new NpgsqlParameter<string[]>("head", batch.Select(c => c.HeadHash).ToArray()));
                insert.Parameters.Add(new NpgsqlParameter<DateTime[]>("created", batch.Select(c => c.Timestamp.UtcDateTime).ToArray()) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz });
                insert.Parameters.Add(new NpgsqlParameter<string[]>("document", batch.Select(c => c.ToLine()).ToArray()));
                insert.ExecuteNonQuery();
                appended += batch.Length;
            }

            copying.Commit();
            return appended;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The checkpoint table '{Name}' cannot be written ({ex.Message}).", Name, ex);
        }
    }

    public override string ToString() => Name;

    private Checkpoint Parse(long number, string document) => Checkpoint.Parse(document, Name, number);

    private object? Scalar(string sql)
    {
        var owned = connection is null ? Open() : null;
        try
        {
            using var command = new NpgsqlCommand(sql, owned ?? connection, transaction);
            return command.ExecuteScalar();
        }
        catch (NpgsqlException ex)
        {
            throw Malformed(ex);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private NpgsqlConnection Open()
    {
        var opened = target.CreateConnection();
        try
        {
            opened.Open();
            return opened;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            opened.Dispose();
            throw Malformed(ex);
        }
    }

    private NpgsqlDataReader Execute(NpgsqlCommand command)
    {
        try
        {
            return command.ExecuteReader();
        }
        catch (NpgsqlException ex)
        {
            throw Malformed(ex);
        }
    }

    private bool Read(NpgsqlDataReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (NpgsqlException ex)
        {
            throw Malformed(ex);
        }
    }

    private FlagsException Malformed(Exception ex)
        => new("CheckpointFileMalformed", FlagsErrorKind.InvalidData, $"The checkpoint table '{Name}' cannot be read ({ex.Message}).", Name, ex);
}
