using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// The shared ledger in PostgreSQL. Each event is a row holding the exact canonical line the JSONL ledger would write
/// (so an export verifies like a file, with the same <see cref="ChainVerifier"/>) beside indexed copies of the fields
/// queries filter on. Appends serialize on a transaction-scoped advisory lock: the head is read, the stream's
/// expectation checked with an indexed query, and the rows inserted in one transaction, so concurrent agents build one
/// chain with no fork and no gap, and a stale decision is refused without making writers of other flags retry.
/// Reads filter in SQL on the indexes and stream rows; every returned event is parsed from its stored line.
/// </summary>
public sealed class PostgresLedger : ILedger
{
    private static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);
    private readonly DatabaseTarget target;
    private readonly string schema;
    private readonly TimeSpan lockTimeout;
    private readonly long appendLockKey;

    private PostgresLedger(DatabaseTarget target, string schema, TimeSpan lockTimeout)
    {
        this.target = target;
        this.schema = schema;
        this.lockTimeout = lockTimeout;
        appendLockKey = PostgresLedgerSchema.LockKey(schema, "append");
        Identity = $"postgres:{target.Host.ToLowerInvariant()}:{target.Port}/{target.Database}/{schema}";
        Name = $"Postgres:{target.Host}:{target.Port}/{target.Database}/{schema}";
        Checkpoints = new PostgresCheckpointStore(target, schema);
    }

    /// <summary>When set (Connect-FlagLedger -SigningKeyPath), every append is sealed in its own transaction.</summary>
    public CheckpointSealer? Sealer { get; set; }

    /// <summary>
    /// Set when the ledger was opened with -SkipVerification although it failed: the next appended event carries it in
    /// its details, as on a JSONL ledger, so the trail itself says someone chose to write on top of it.
    /// </summary>
    public string? SkippedVerification { get; set; }

    /// <summary>Called on the reading thread with each batch a verification read (tests count what was read).</summary>
    internal Action<Utf8LineBatch>? BatchRead { get; set; }

    /// <summary>The ledger's checkpoints table.</summary>
    public PostgresCheckpointStore Checkpoints { get; }

    public string Name { get; }

    public string Identity { get; }

    public string Host => target.Host;

    public int Port => target.Port;

    public string Database => target.Database;

    public string Schema => schema;

    public string User => target.User;

    /// <summary>Connects once, creating or upgrading the ledger's schema when it is not current.</summary>
    public static async Task<PostgresLedger> OpenAsync(DatabaseTarget target, string? schema, CancellationToken cancellationToken, TimeSpan? lockTimeout = null)
    {
        var ledger = new PostgresLedger(target, PostgresLedgerSchema.Validate(schema), lockTimeout ?? DefaultLockTimeout);
        await ledger.WithConnectionAsync(
            async (connection, ct) =>
            {
                await PostgresLedgerSchema.EnsureCurrentAsync(connection, ledger.schema, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        return ledger;
    }

    public Task EnsureWritableAsync(CancellationToken cancellationToken)
        => WithConnectionAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT has_table_privilege(@table, 'INSERT')", connection);
                command.Parameters.AddWithValue("table", schema + ".events");
                if (!(bool)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
                {
                    throw new LedgerException(LedgerFailure.Refused, PostgresLedgerFailures.PermissionDenied, FlagsErrorKind.PermissionDenied, $"{Name}: the role '{target.User}' may not insert into {schema}.events.", Name);
                }

                return true;
            },
            cancellationToken);

    public Task<IReadOnlyList<AuditEvent>> AppendAsync(IReadOnlyList<AuditEvent> drafts, LedgerExpectation? expectation, bool skipKnownEventIds, CancellationToken cancellationToken)
        => WithConnectionAsync<IReadOnlyList<AuditEvent>>(
            async (connection, ct) =>
            {
                await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using (var lockCommand = new NpgsqlCommand($"SET LOCAL lock_timeout = {(long)lockTimeout.TotalMilliseconds}; SELECT pg_advisory_xact_lock(@key)", connection, transaction))
                {
                    lockCommand.Parameters.AddWithValue("key", appendLockKey);
                    await lockCommand.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                // Read committed: every statement from here sees every append committed before the lock was granted.
                var (sequence, previousHash) = await ReadHeadAsync(connection, transaction, ct).ConfigureAwait(false);
                if (expectation is not null && await StreamMovedSinceAsync(connection, transaction, expectation, sequence, ct).ConfigureAwait(false))
                {
                    throw new LedgerException(LedgerFailure.Conflict, "LedgerHeadMoved", FlagsErrorKind.InvalidOperation, $"Another writer appended to {expectation.Stream} after #{expectation.ReadAt}; re-read and decide again.", Name);
                }

                var known = skipKnownEventIds ? await FindEventsAsync(connection, transaction, drafts.Select(d => d.EventId).ToArray(), ct).ConfigureAwait(false) : new Dictionary<string, AuditEvent>();
                var results = new List<AuditEvent>(drafts.Count);
                var rows = new List<(AuditEvent Event, string Line)>(drafts.Count);
                var skipNote = SkippedVerification;
                foreach (var original in drafts)
                {
                    if (known.TryGetValue(original.EventId, out var stored))
                    {
                        results.Add(stored);
                        continue;
                    }

                    var draft = original;
                    if (skipNote is not null)
                    {
                        draft = draft.WithDetail("verification_skipped", skipNote);
                        skipNote = null;
                    }

                    var chained = draft.WithChain(++sequence, previousHash, "");
                    var line = AuditEventCodec.ToLine(chained, out var hash);
                    var appended = chained.WithChain(sequence, previousHash, hash);
                    results.Add(appended);
                    rows.Add((appended, line));
                    previousHash = hash;
                }

                if (rows.Count > 0)
                {
                    await InsertAsync(connection, transaction, rows, ct).ConfigureAwait(false);
                    await SealWithinAsync(connection, transaction, sequence, previousHash!, ct).ConfigureAwait(false);
                }

                await transaction.CommitAsync(ct).ConfigureAwait(false);
                if (rows.Count > 0)
                {
                    SkippedVerification = skipNote;
                }

                return results;
            },
            cancellationToken);

    public Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken)
        => WithConnectionAsync(async (connection, ct) => (await ReadHeadAsync(connection, null, ct).ConfigureAwait(false)).Sequence, cancellationToken);

    public async IAsyncEnumerable<AuditEvent> ReadAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        NpgsqlCommand command;
        NpgsqlDataReader reader;
        try
        {
            connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            command = BuildQuery(connection, query);
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (PostgresLedgerFailures.IsDriverFailure(ex, cancellationToken))
        {
            throw Failed(ex);
        }

        await using (connection.ConfigureAwait(false))
        await using (command.ConfigureAwait(false))
        await using (reader.ConfigureAwait(false))
        {
            var returned = 0;
            while (true)
            {
                string line;
                try
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        yield break;
                    }

                    line = reader.GetString(0);
                }
                catch (Exception ex) when (PostgresLedgerFailures.IsDriverFailure(ex, cancellationToken))
                {
                    throw Failed(ex);
                }

                var auditEvent = Parse(line);
                // The SQL filter narrows on the indexes; the event's own content has the last word, exactly as in JSONL.
                if (!query.Matches(auditEvent))
                {
                    continue;
                }

                yield return auditEvent;
                if (query.Limit is { } limit && ++returned >= limit)
                {
                    yield break;
                }
            }
        }
    }

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken)
        => Task.FromResult(Verify(ChainScanOptions.FromStart, cancellationToken));

    /// <summary>
    /// The chain scan with the checks of a checkpoint (the sealed head, an auditor's head) folded in. Rows from
    /// <see cref="ChainScanOptions.FirstSequence"/> on arrive through a binary COPY, as the bytes that were hashed,
    /// and are hashed while the next ones are read.
    /// </summary>
    public ChainVerification Verify(ChainScanOptions options, CancellationToken cancellationToken)
    {
        // COPY takes no parameters; the bound is a number formatted here, never text from outside.
        var from = options.FirstSequence > 1 ? FormattableString.Invariant($" WHERE sequence >= {options.FirstSequence}") : "";
        try
        {
            using var connection = target.CreateConnection();
            connection.Open();
            using var transaction = connection.BeginTransaction();
            using (var plan = new NpgsqlCommand(WalkThePrimaryKey, connection, transaction))
            {
                plan.ExecuteNonQuery();
            }

            using var copy = connection.BeginRawBinaryCopy($"COPY (SELECT line FROM {schema}.events{from} ORDER BY sequence) TO STDOUT (FORMAT binary)");
            var lines = new PostgresCopyLines(copy);
            return ChainVerifier.VerifyUtf8(
                Name,
                (batch, ct) =>
                {
                    var more = lines.Fill(batch, ct);
                    BatchRead?.Invoke(batch);
                    return more;
                },
                options,
                cancellationToken);
        }
        catch (Exception ex) when (PostgresLedgerFailures.IsDriverFailure(ex, cancellationToken))
        {
            throw Failed(ex);
        }
    }

    /// <summary>
    /// Rows are appended in sequence order, so walking the primary key reads the table in order and sorts nothing. The
    /// planner does not always know that: with statistics not yet gathered (a fresh bulk copy) it took the rows after
    /// the seal for a third of the table and scanned and sorted all of it (0.3 s instead of milliseconds at 1,000,000
    /// events). For this read the index walk is always right, so the alternatives are switched off for its transaction;
    /// so is JIT, which the same wrong estimate made compile the scan for 0.1 s before reading a hundred rows.
    /// </summary>
    private const string WalkThePrimaryKey = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off";

    /// <summary>The stored line of one event, read by its primary key (null when there is no such row).</summary>
    public string? ReadLine(long sequence, CancellationToken cancellationToken)
        => WithConnectionAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand($"SELECT line FROM {schema}.events WHERE sequence = @sequence", connection);
                command.Parameters.AddWithValue("sequence", sequence);
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
            },
            cancellationToken).GetAwaiter().GetResult();

    /// <summary>Every stored line in sequence order, streamed as text (verification reads bytes through COPY instead).</summary>
    public IEnumerable<string> ReadAllLines(CancellationToken cancellationToken)
    {
        using var connection = target.CreateConnection();
        connection.Open();
        using var command = new NpgsqlCommand($"SELECT line FROM {schema}.events ORDER BY sequence", connection);
        using var reader = command.ExecuteReader(System.Data.CommandBehavior.SequentialAccess);
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return reader.GetString(0);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => Name;

    /// <summary>
    /// Seals the new head inside the append's transaction, under the advisory lock, so checkpoints follow the chain's
    /// order and never seal events that did not commit. A checkpoint that cannot be written is a warning, as in JSONL:
    /// the savepoint keeps the events, and the next seal covers this head too.
    /// </summary>
    private async Task SealWithinAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long sequence, string headHash, CancellationToken cancellationToken)
    {
        if (Sealer is not { } sealer)
        {
            return;
        }

        await transaction.SaveAsync("seal", cancellationToken).ConfigureAwait(false);
        try
        {
            new CheckpointSealer(sealer.Signer, Checkpoints.Within(connection, transaction)).Seal(sequence, headHash, null, DateTimeOffset.UtcNow);
            await transaction.ReleaseAsync("seal", cancellationToken).ConfigureAwait(false);
        }
        catch (FlagsException ex)
        {
            await transaction.RollbackAsync("seal", cancellationToken).ConfigureAwait(false);
            AmbientOperationLog.Instance.Warning($"Recorded #{sequence}, but could not seal it with a checkpoint: {ex.Message}");
        }
    }

    private async Task<(long Sequence, string? Hash)> ReadHeadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT sequence, hash FROM {schema}.events ORDER BY sequence DESC LIMIT 1", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetString(1)) : (0, null);
    }

    private async Task<bool> StreamMovedSinceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LedgerExpectation expectation, long headSequence, CancellationToken cancellationToken)
    {
        if (headSequence == expectation.ReadAt)
        {
            return false;
        }

        if (headSequence < expectation.ReadAt)
        {
            // The ledger is shorter than when it was read: something is badly wrong; let the caller re-read.
            return true;
        }

        var stream = expectation.Stream;
        var predicate = stream.RolloutId is not null
            ? "rollout_id IS NOT NULL AND lower(rollout_id) = lower(@rollout)"
            : "lower(feature_flag) = lower(@flag) AND lower(environment) = lower(@environment)";
        await using var command = new NpgsqlCommand($"SELECT line FROM {schema}.events WHERE {predicate} AND sequence > @readAt ORDER BY sequence", connection, transaction);
        command.Parameters.AddWithValue("readAt", expectation.ReadAt);
        if (stream.RolloutId is not null)
        {
            command.Parameters.AddWithValue("rollout", stream.RolloutId);
        }
        else
        {
            command.Parameters.AddWithValue("flag", stream.Flag!);
            command.Parameters.AddWithValue("environment", stream.Environment!);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (stream.Contains(Parse(reader.GetString(0))))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<Dictionary<string, AuditEvent>> FindEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] eventIds, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, AuditEvent>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand($"SELECT line FROM {schema}.events WHERE event_id = ANY(@ids)", connection, transaction);
        command.Parameters.AddWithValue("ids", eventIds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var stored = Parse(reader.GetString(0));
            found[stored.EventId] = stored;
        }

        return found;
    }

    private async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(AuditEvent Event, string Line)> rows, CancellationToken cancellationToken)
    {
        // One statement for the whole unit: the rows arrive as arrays and are inserted together or not at all.
        await using var command = new NpgsqlCommand(
            $"INSERT INTO {schema}.events (sequence, event_id, ts, event_type, user_id, feature_flag, environment, rollout_id, prev_hash, hash, line) "
            + "SELECT * FROM unnest(@sequence, @event_id, @ts, @event_type, @user_id, @feature_flag, @environment, @rollout_id, @prev_hash, @hash, @line)",
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<long[]>("sequence", rows.Select(r => r.Event.Sequence).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("event_id", rows.Select(r => r.Event.EventId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("ts", rows.Select(r => StoredTimestamp(r.Event.Timestamp)).ToArray()) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string[]>("event_type", rows.Select(r => r.Event.EventType).ToArray()));
        command.Parameters.Add(Texts("user_id", rows.Select(r => r.Event.UserId)));
        command.Parameters.Add(Texts("feature_flag", rows.Select(r => r.Event.FeatureFlag)));
        command.Parameters.Add(Texts("environment", rows.Select(r => r.Event.Environment)));
        command.Parameters.Add(Texts("rollout_id", rows.Select(r => r.Event.RolloutId)));
        command.Parameters.Add(Texts("prev_hash", rows.Select(r => r.Event.PrevHash)));
        command.Parameters.Add(new NpgsqlParameter<string[]>("hash", rows.Select(r => r.Event.Hash!).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("line", rows.Select(r => r.Line).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlParameter Texts(string name, IEnumerable<string?> values)
        => new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.Select(v => (object?)v ?? DBNull.Value).ToArray() };

    // The canonical form keeps milliseconds (truncated); the indexed column holds the same instant, so the SQL filter
    // and the event's own timestamp agree at the boundaries of -Since and -Until.
    private static DateTime StoredTimestamp(DateTimeOffset timestamp)
    {
        var ticks = timestamp.UtcTicks;
        return new DateTime(ticks - (ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
    }

    private NpgsqlCommand BuildQuery(NpgsqlConnection connection, AuditQuery query)
    {
        var sql = new StringBuilder($"SELECT line FROM {schema}.events WHERE true");
        var command = new NpgsqlCommand { Connection = connection };
        if (query.Flag is not null)
        {
            sql.Append(" AND lower(feature_flag) = lower(@flag)");
            command.Parameters.AddWithValue("flag", query.Flag);
        }

        if (query.Environment is not null)
        {
            sql.Append(" AND lower(environment) = lower(@environment)");
            command.Parameters.AddWithValue("environment", query.Environment);
        }

        if (query.EventTypes is { Count: > 0 } types)
        {
            sql.Append(" AND lower(event_type) = ANY(@types)");
            command.Parameters.AddWithValue("types", types.Select(t => t.ToLowerInvariant()).ToArray());
        }

        if (query.User is not null)
        {
            sql.Append(" AND lower(user_id) = lower(@user)");
            command.Parameters.AddWithValue("user", query.User);
        }

        if (query.RolloutId is not null)
        {
            sql.Append(" AND rollout_id IS NOT NULL AND lower(rollout_id) = lower(@rollout)");
            command.Parameters.AddWithValue("rollout", query.RolloutId);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts >= @since");
            command.Parameters.Add(new NpgsqlParameter<DateTime>("since", since.UtcDateTime));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND ts <= @until");
            command.Parameters.Add(new NpgsqlParameter<DateTime>("until", until.UtcDateTime));
        }

        if (query.AfterSequence is { } after)
        {
            // A range on the sequence: the primary key, or the tail of the (flag, environment, sequence) and the other
            // (column, sequence) indexes, so a page deep in the trail costs what the first page costs.
            sql.Append(" AND sequence > @after");
            command.Parameters.Add(new NpgsqlParameter<long>("after", after));
        }

        // Newest first is the same index read backwards.
        sql.Append(query.Newest is null ? " ORDER BY sequence" : " ORDER BY sequence DESC");
        if (query.Limit is { } limit)
        {
            sql.Append(" LIMIT @limit");
            command.Parameters.Add(new NpgsqlParameter<long>("limit", Math.Max(0, limit)));
        }

        if (query.Skip is { } skip)
        {
            sql.Append(" OFFSET @skip");
            command.Parameters.Add(new NpgsqlParameter<long>("skip", Math.Max(0, skip)));
        }

        command.CommandText = sql.ToString();
        return command;
    }

    private AuditEvent Parse(string line)
    {
        try
        {
            return AuditEventCodec.ParseLine(line);
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or FormatException or InvalidCastException or ArgumentException or OverflowException)
        {
            throw new LedgerException(LedgerFailure.Refused, "LedgerMalformed", FlagsErrorKind.InvalidData, $"The ledger {Name} holds a row that is not an audit event ({ex.Message}); run Test-FlagAuditChain.", Name, ex);
        }
    }

    private async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = target.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not LedgerException && PostgresLedgerFailures.IsDriverFailure(ex, cancellationToken))
        {
            throw Failed(ex);
        }
    }

    private LedgerException Failed(Exception ex)
    {
        var failure = PostgresLedgerFailures.Map(ex, target, Name);
        if (failure.Failure == LedgerFailure.Unavailable)
        {
            // Pooled connections to a server that went away are dead too: drop them, so the first call after the
            // server is back does not fail on one of them.
            using var connection = target.CreateConnection();
            NpgsqlConnection.ClearPool(connection);
        }

        return failure;
    }
}
