using Npgsql;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>PostgresLedger against a real PostgreSQL 15: the same chain as JSONL, append-only tables, serialized appends, refusals.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly PostgresCluster cluster;
    private readonly TempDirectory temp = new();
    private readonly string connectionString;
    private readonly string databaseName;

    public PostgresLedgerTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
        connectionString = cluster.CreateDatabase("xunit_pgledger");
        databaseName = connectionString.Split("Database=")[1];
    }

    public void Dispose() => temp.Dispose();

    private Task<PostgresLedger> Open(string? schema = null, string? connection = null) => PostgresLedger.OpenAsync(DatabaseTarget.Parse(connection ?? connectionString, TimeSpan.FromSeconds(10)), schema, None);

    private string Sql(string sql) => cluster.Sql(sql, databaseName);

    private long Count(string schema = "pms_flags") => long.Parse(Sql($"SELECT count(*) FROM {schema}.events"), System.Globalization.CultureInfo.InvariantCulture);

    private static AuditEvent Event(int n, string flag, string environment, string type = "feature_flag_toggled", string user = "alice@pms.example", string? rollout = null) => new()
    {
        Timestamp = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(n).AddTicks(1234),
        EventType = type,
        UserId = user,
        FeatureFlag = flag,
        Environment = environment,
        Reason = $"reason {n} with 'quotes' and ünïcode",
        RolloutPercentage = n % 3 == 0 ? 12.5m : n,
        RolloutId = rollout,
        Details = n % 2 == 0 ? "{\"b\":1,\"a\":[true,null]}" : null,
        EventId = $"00000000-0000-0000-0000-{n:D12}",
    };

    private static AuditEvent[] Mixed() => Enumerable.Range(1, 24).Select(n => Event(
        n,
        n % 3 == 0 ? "checkout_v2" : "new_billing",
        n % 2 == 0 ? "staging" : "production",
        n % 4 == 0 ? "rollout_started" : "feature_flag_toggled",
        n % 5 == 0 ? "bob@pms.example" : "alice@pms.example",
        n % 6 == 0 ? "R-6" : null)).ToArray();

    [Fact]
    public async Task Stored_lines_are_byte_for_byte_the_JSONL_ledger_s_and_verify_the_same()
    {
        var postgres = await Open();
        var jsonl = new JsonlLedger(temp.Combine("audit.jsonl"));
        foreach (var chunk in Mixed().Chunk(5))
        {
            await postgres.AppendAsync(chunk, null, false, None);
            await jsonl.AppendAsync(chunk, null, false, None);
        }

        Assert.Equal(File.ReadAllLines(jsonl.Path), postgres.ReadAllLines(None).ToArray());
        var verification = await postgres.VerifyAsync(None);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(24, verification.Count);
        Assert.Equal((await jsonl.VerifyAsync(None)).HeadHash, verification.HeadHash);
    }

    [Fact]
    public async Task Every_filter_and_First_return_what_the_JSONL_ledger_returns()
    {
        var postgres = await Open();
        var jsonl = new JsonlLedger(temp.Combine("audit.jsonl"));
        await postgres.AppendAsync(Mixed(), null, false, None);
        await jsonl.AppendAsync(Mixed(), null, false, None);
        var queries = new[]
        {
            AuditQuery.All,
            new AuditQuery { Flag = "CHECKOUT_V2" },
            new AuditQuery { Environment = "production" },
            new AuditQuery { Flag = "new_billing", Environment = "Staging" },
            new AuditQuery { EventTypes = new[] { "rollout_started" } },
            new AuditQuery { EventTypes = new[] { "ROLLOUT_STARTED", "feature_flag_toggled" } },
            new AuditQuery { User = "Bob@pms.example" },
            new AuditQuery { RolloutId = "r-6" },
            new AuditQuery { Since = new DateTimeOffset(2026, 1, 10, 0, 0, 0, TimeSpan.Zero) },
            new AuditQuery { Until = new DateTimeOffset(2026, 1, 10, 0, 0, 0, 1, TimeSpan.Zero) },
            new AuditQuery { Since = Mixed()[4].Timestamp, Until = Mixed()[9].Timestamp },
            new AuditQuery { Flag = "new_billing", First = 3 },
            new AuditQuery { First = 1 },
        };

        foreach (var query in queries)
        {
            var expected = (await jsonl.ReadListAsync(query, None)).Select(e => e.Hash).ToArray();
            var actual = (await postgres.ReadListAsync(query, None)).Select(e => e.Hash).ToArray();
            Assert.Equal(expected, actual);
        }

        Assert.Equal(4, (await postgres.ReadListAsync(new AuditQuery { Flag = "checkout_v2", Environment = "staging" }, None)).Count);
        Assert.Equal(new long[] { 6, 12, 18, 24 }, (await postgres.ReadListAsync(new AuditQuery { RolloutId = "R-6" }, None)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Paging_by_First_and_Since_walks_the_whole_trail_once()
    {
        var postgres = await Open();
        await postgres.AppendAsync(Mixed(), null, false, None);
        var seen = new List<long>();
        DateTimeOffset? since = null;
        while (true)
        {
            var page = await postgres.ReadListAsync(new AuditQuery { Since = since, First = 5 }, None);
            var fresh = page.Where(e => !seen.Contains(e.Sequence)).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            seen.AddRange(fresh.Select(e => e.Sequence));
            since = page[^1].Timestamp.AddTicks(1);
        }

        Assert.Equal(Enumerable.Range(1, 24).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task Filter_values_that_look_like_SQL_are_only_values()
    {
        var postgres = await Open();
        await postgres.AppendAsync(Mixed(), null, false, None);

        var injected = await postgres.ReadListAsync(new AuditQuery { Flag = "x'; DROP TABLE pms_flags.events; --", User = "' OR '1'='1", EventTypes = new[] { "') OR true --" } }, None);
        var rolloutInjected = await postgres.ReadListAsync(new AuditQuery { RolloutId = "R-6' OR 'a'='a" }, None);

        Assert.Empty(injected);
        Assert.Empty(rolloutInjected);
        Assert.Equal(24, Count());
        Assert.True((await postgres.VerifyAsync(None)).Valid);
    }

    [Theory]
    [InlineData("UPDATE pms_flags.events SET line = replace(line, 'reason 3', 'reason X') WHERE sequence = 3")]
    [InlineData("DELETE FROM pms_flags.events WHERE sequence = 3")]
    [InlineData("TRUNCATE pms_flags.events")]
    [InlineData("UPDATE pms_flags.checkpoints SET document = 'x'")]
    [InlineData("DELETE FROM pms_flags.checkpoints")]
    [InlineData("TRUNCATE pms_flags.checkpoints")]
    public async Task The_database_refuses_to_change_or_delete_events_even_for_the_superuser(string sql)
    {
        var postgres = await Open();
        await postgres.AppendAsync(Mixed(), null, false, None);
        Sql("INSERT INTO pms_flags.checkpoints (number, sequence, head_hash, document) SELECT 1, sequence, hash, '{}' FROM pms_flags.events WHERE sequence = 24");
        var before = string.Join("\n", postgres.ReadAllLines(None));

        var ex = Assert.Throws<InvalidOperationException>(() => Sql(sql));

        Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, string.Join("\n", postgres.ReadAllLines(None)));
        Assert.Equal("1", Sql("SELECT count(*) FROM pms_flags.checkpoints WHERE document = '{}'"));
    }

    [Fact]
    public async Task The_README_writer_role_appends_and_reads_but_cannot_change_delete_or_unprotect_events()
    {
        await (await Open()).AppendAsync(Mixed(), null, false, None);
        var role = "writer_" + Guid.NewGuid().ToString("N")[..8];
        var password = "w-" + Guid.NewGuid().ToString("N");
        Sql($"""
            CREATE ROLE {role} LOGIN PASSWORD '{password}';
            GRANT CONNECT ON DATABASE {databaseName} TO {role};
            GRANT USAGE ON SCHEMA pms_flags TO {role};
            GRANT SELECT ON pms_flags.schema_version TO {role};
            GRANT SELECT, INSERT ON pms_flags.events, pms_flags.checkpoints TO {role};
            """);
        var writerTarget = DatabaseTarget.Parse(connectionString).WithCredential(role, password);

        var writer = await PostgresLedger.OpenAsync(writerTarget, null, None);
        await writer.EnsureWritableAsync(None);
        var appended = await writer.AppendAsync(Event(99, "checkout_v2", "staging"), None);
        Assert.Equal(25, appended.Sequence);
        Assert.Equal(25, (await writer.ReadListAsync(AuditQuery.All, None)).Count);

        var before = string.Join("\n", writer.ReadAllLines(None));
        foreach (var sql in new[]
        {
            "UPDATE pms_flags.events SET line = 'x' WHERE sequence = 1",
            "DELETE FROM pms_flags.events WHERE sequence = 25",
            "TRUNCATE pms_flags.events",
            "ALTER TABLE pms_flags.events DISABLE TRIGGER events_append_only",
            "DROP TABLE pms_flags.events",
            "CREATE TABLE pms_flags.shadow (x int)",
        })
        {
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={cluster.Port};Username={role};Password={password};Database={databaseName}");
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            var ex = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.True(ex.SqlState is "42501" or "P0001", $"{sql}: {ex.SqlState} {ex.MessageText}");
        }

        Assert.Equal(before, string.Join("\n", writer.ReadAllLines(None)));
        Assert.True((await writer.VerifyAsync(None)).Valid);
    }

    [Fact]
    public async Task A_superuser_who_disables_the_trigger_to_edit_or_delete_an_event_is_named_by_the_verification()
    {
        var postgres = await Open();
        await postgres.AppendAsync(Mixed(), null, false, None);

        Sql("ALTER TABLE pms_flags.events DISABLE TRIGGER events_append_only; UPDATE pms_flags.events SET line = replace(line, 'reason 7 ', 'reason 8 ') WHERE sequence = 7; ALTER TABLE pms_flags.events ENABLE TRIGGER events_append_only");
        var edited = await postgres.VerifyAsync(None);
        Assert.False(edited.Valid);
        Assert.Equal(7, edited.FirstBrokenSequence);
        Assert.Equal("modified", edited.Problem);

        Sql("ALTER TABLE pms_flags.events DISABLE TRIGGER events_append_only; DELETE FROM pms_flags.events WHERE sequence IN (7, 15); ALTER TABLE pms_flags.events ENABLE TRIGGER events_append_only");
        var deleted = await postgres.VerifyAsync(None);
        Assert.False(deleted.Valid);
        Assert.Equal(7, deleted.FirstBrokenSequence);
        Assert.Equal("deleted", deleted.Problem);
    }

    [Fact]
    public async Task Concurrent_appends_on_eight_connections_build_one_chain_without_fork_or_gap()
    {
        var first = await Open();
        var writers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Open()));

        await Task.WhenAll(writers.Select((writer, w) => Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                await writer.AppendAsync(new AuditEvent { EventType = "feature_flag_toggled", FeatureFlag = $"flag_{w}", Environment = "staging", Reason = $"{w}/{i}" }, None);
            }
        })));

        var verification = await first.VerifyAsync(None);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(480, verification.Count);
        Assert.Equal("480|1|480", Sql("SELECT count(*) || '|' || min(sequence) || '|' || max(sequence) FROM pms_flags.events"));
        for (var w = 0; w < 8; w++)
        {
            // Each writer's own events are in the order it appended them.
            var reasons = (await first.ReadListAsync(new AuditQuery { Flag = $"flag_{w}" }, None)).Select(e => e.Reason).ToArray();
            Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{w}/{i}"), reasons);
        }
    }

    [Fact]
    public async Task The_expected_head_refuses_a_stale_decision_on_its_stream_only()
    {
        var postgres = await Open();
        await postgres.AppendAsync(new AuditEvent { EventType = "rollout_started", FeatureFlag = "a", Environment = "staging", RolloutId = "r1" }, None);
        var readAt = await postgres.GetHeadSequenceAsync(None);
        await postgres.AppendAsync(Event(1, "b", "staging"), None);
        await postgres.AppendAsync(Event(2, "a", "production"), None);

        var unrelated = await postgres.AppendAsync(new[] { new AuditEvent { EventType = "rollout_stage_advanced", FeatureFlag = "a", Environment = "staging", RolloutId = "r1" } }, new LedgerExpectation(LedgerStream.Rollout("r1"), readAt), false, None);
        Assert.Equal(4, unrelated[0].Sequence);

        var before = Count();
        var ex = await Assert.ThrowsAsync<LedgerException>(() => postgres.AppendAsync(
            new[] { new AuditEvent { EventType = "rollout_paused", RolloutId = "R1" }, new AuditEvent { EventType = "x", RolloutId = "r1" } },
            new LedgerExpectation(LedgerStream.Rollout("r1"), readAt),
            false,
            None));
        Assert.Equal(LedgerFailure.Conflict, ex.Failure);
        Assert.Equal("LedgerHeadMoved", ex.ErrorId);
        Assert.Equal(before, Count());

        var flagConflict = await Assert.ThrowsAsync<LedgerException>(() => postgres.AppendAsync(new[] { Event(5, "A", "STAGING") }, new LedgerExpectation(LedgerStream.FlagIn("a", "staging"), 1), false, None));
        Assert.Equal(LedgerFailure.Conflict, flagConflict.Failure);
        Assert.Equal(before, Count());
    }

    [Fact]
    public async Task Two_agents_deciding_on_the_same_head_make_exactly_one_append()
    {
        var setup = await Open();
        await setup.AppendAsync(new AuditEvent { EventType = "rollout_started", FeatureFlag = "a", Environment = "staging", RolloutId = "r2" }, None);
        for (var round = 0; round < 10; round++)
        {
            var readAt = await setup.GetHeadSequenceAsync(None);
            var agents = await Task.WhenAll(Open(), Open());
            var outcomes = await Task.WhenAll(agents.Select(agent => Task.Run(async () =>
            {
                try
                {
                    await agent.AppendAsync(new[] { new AuditEvent { EventType = "rollout_stage_advanced", FeatureFlag = "a", Environment = "staging", RolloutId = "r2" } }, new LedgerExpectation(LedgerStream.Rollout("r2"), readAt), false, None);
                    return "appended";
                }
                catch (LedgerException ex) when (ex.Failure == LedgerFailure.Conflict)
                {
                    return "conflict";
                }
            })));

            Assert.Equal(new[] { "appended", "conflict" }, outcomes.Order(StringComparer.Ordinal));
        }

        Assert.Equal(11, Count());
    }

    [Fact]
    public async Task A_spool_replay_appends_each_event_once()
    {
        var postgres = await Open();
        var drafts = Mixed().Take(3).ToArray();
        await postgres.AppendAsync(drafts.Take(2).ToArray(), null, false, None);

        var replayed = await postgres.AppendAsync(drafts, null, skipKnownEventIds: true, None);

        Assert.Equal(new long[] { 1, 2, 3 }, replayed.Select(e => e.Sequence));
        Assert.Equal(3, Count());
    }

    [Fact]
    public async Task Two_agents_connecting_to_a_new_database_at_once_create_the_schema_once()
    {
        var schema = "s_" + Guid.NewGuid().ToString("N")[..8];

        var ledgers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Open(schema))));

        Assert.All(ledgers, l => Assert.Equal(ledgers[0].Identity, l.Identity));
        Assert.Equal($"{PostgresLedgerSchema.CurrentVersion}|{PostgresLedgerSchema.CurrentVersion}", Sql($"SELECT count(*) || '|' || max(version) FROM {schema}.schema_version"));
        await ledgers[3].AppendAsync(Event(1, "a", "staging"), None);
        Assert.Equal(1, Count(schema));
        Assert.Equal(0, await (await Open()).GetHeadSequenceAsync(None));
    }

    [Fact]
    public async Task The_identity_names_host_port_database_and_schema_and_never_the_password()
    {
        var postgres = await Open("audit_x");

        Assert.Equal($"postgres:127.0.0.1:{cluster.Port}/{databaseName}/audit_x", postgres.Identity);
        foreach (var text in new[] { postgres.Identity, postgres.Name, postgres.ToString() })
        {
            Assert.DoesNotContain(cluster.Password, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_database_that_went_away_is_unavailable_and_a_spooled_event_is_flushed_in_order_when_it_is_back()
    {
        var postgres = await Open();
        var trail = new AuditTrail(postgres, new AuditSpool(temp.Combine("spool")), NullOperationLog.Instance);
        await trail.RecordAsync(Event(1, "a", "staging"), None);

        cluster.Stop();
        AuditRecord[] spooled;
        try
        {
            var unavailable = await Assert.ThrowsAsync<LedgerException>(() => trail.EnsureWritableAsync(None));
            Assert.Equal(LedgerFailure.Unavailable, unavailable.Failure);
            Assert.Equal("LedgerUnavailable", unavailable.ErrorId);
            spooled = new[] { await trail.RecordAsync(Event(2, "a", "staging"), None), await trail.RecordAsync(Event(3, "b", "staging"), None) };
        }
        finally
        {
            cluster.Start();
        }

        Assert.All(spooled, r => Assert.True(r.Spooled));
        var next = await trail.RecordAsync(Event(4, "a", "staging"), None);

        Assert.False(next.Spooled);
        Assert.Equal(4, next.Sequence);
        Assert.Equal(new[] { Event(1, "a", "s").EventId, Event(2, "a", "s").EventId, Event(3, "a", "s").EventId, Event(4, "a", "s").EventId }, (await postgres.ReadListAsync(AuditQuery.All, None)).Select(e => e.EventId));
        Assert.True((await postgres.VerifyAsync(None)).Valid);
        Assert.Empty(trail.Spool.Pending(postgres));
    }

    [Fact]
    public async Task Bad_connections_are_refused_with_their_ErrorId_and_never_show_the_password()
    {
        var wrongPassword = "Password=" + cluster.Password;
        var cases = new (string ConnectionString, string? Schema, string ErrorId, LedgerFailure Failure)[]
        {
            (connectionString.Replace(wrongPassword, "Password=not-" + cluster.Password, StringComparison.Ordinal), null, "LedgerAuthenticationFailed", LedgerFailure.Refused),
            (connectionString.Replace("Port=" + cluster.Port, "Port=1", StringComparison.Ordinal), null, "LedgerUnavailable", LedgerFailure.Unavailable),
            (connectionString.Replace("Host=127.0.0.1", "Host=no-such-host.invalid", StringComparison.Ordinal), null, "LedgerUnavailable", LedgerFailure.Unavailable),
            (connectionString.Replace("Database=" + databaseName, "Database=missing_db", StringComparison.Ordinal), null, "LedgerDatabaseNotFound", LedgerFailure.Refused),
            (connectionString, "pms; DROP SCHEMA public", "LedgerSchemaInvalid", LedgerFailure.Refused),
        };

        foreach (var (text, schema, errorId, failure) in cases)
        {
            var ex = await Assert.ThrowsAsync<LedgerException>(() => Open(schema, text));
            Assert.Equal(errorId, ex.ErrorId);
            Assert.Equal(failure, ex.Failure);
            Assert.DoesNotContain(cluster.Password, ex.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal("0", Sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'pms_flags'"));
        var malformed = Assert.Throws<FlagsException>(() => DatabaseTarget.Parse("Host=127.0.0.1;Password=" + cluster.Password + ";Bogus Key=1"));
        Assert.Equal("DatabaseConnectionStringInvalid", malformed.ErrorId);
        Assert.DoesNotContain(cluster.Password, malformed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_without_the_right_to_create_the_schema_is_refused_and_nothing_is_created()
    {
        var role = "plain_" + Guid.NewGuid().ToString("N")[..8];
        Sql($"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'; GRANT CONNECT ON DATABASE {databaseName} TO {role}");
        var target = DatabaseTarget.Parse(connectionString).WithCredential(role, "pw-" + role);

        var ex = await Assert.ThrowsAsync<LedgerException>(() => PostgresLedger.OpenAsync(target, null, None));

        Assert.Equal("LedgerPermissionDenied", ex.ErrorId);
        Assert.Equal(LedgerFailure.Refused, ex.Failure);
        Assert.Equal("0", Sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'pms_flags'"));
    }
}
