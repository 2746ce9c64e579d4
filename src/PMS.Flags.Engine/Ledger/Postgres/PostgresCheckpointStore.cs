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
