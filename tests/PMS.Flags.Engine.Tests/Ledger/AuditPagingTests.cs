using System.Reflection;
using Npgsql;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>Get-FlagAudit's pages (First, Newest, Skip, AfterSequence) on the JSONL and the PostgreSQL ledger: the same events, every one once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AuditPagingTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly PostgresCluster cluster;
    private readonly TempDirectory temp = new();
    private readonly string connectionString;
    private readonly string databaseName;

    public AuditPagingTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
        connectionString = cluster.CreateDatabase("xunit_paging");
        databaseName = connectionString.Split("Database=")[1];
    }

    public static TheoryData<string> Filters => new() { "all", "flag", "environment", "flag+environment", "types", "user", "rollout", "since", "until", "since+until+flag" };

    public void Dispose() => temp.Dispose();

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Every_page_of_every_filter_is_the_same_on_both_ledgers(string filter)
    {
        var (jsonl, postgres) = await BothWith(Mixed(90));
        var pages = new Func<AuditQuery, AuditQuery>[]
        {
            q => q,
            q => With(q, first: 7),
            q => With(q, first: 7, skip: 5),
            q => With(q, skip: 11),
            q => With(q, skip: 1000),
            q => With(q, after: 40),
            q => With(q, after: 40, first: 3),
            q => With(q, after: 40, first: 3, skip: 2),
            q => With(q, newest: 5),
            q => With(q, newest: 5, skip: 3),
            q => With(q, newest: 4, after: 60),
            q => With(q, newest: 1000),
        };
        foreach (var page in pages)
        {
            var query = page(Query(filter));
            var fromFile = Ids(await jsonl.ReadListAsync(query, None));
            var fromDatabase = Ids(await postgres.ReadListAsync(query, None));
            Assert.Equal(fromFile, fromDatabase);
        }

        // A page is what its definition says, checked against the whole filtered trail.
        var all = await jsonl.ReadListAsync(Query(filter), None);
        Assert.NotEmpty(all);
        Assert.Equal(Ids(all.Skip(5).Take(7)), Ids(await postgres.ReadListAsync(With(Query(filter), first: 7, skip: 5), None)));
        Assert.Equal(Ids(all.Where(e => e.Sequence > 40).Take(3)), Ids(await postgres.ReadListAsync(With(Query(filter), after: 40, first: 3), None)));
        Assert.Equal(Ids(Enumerable.Reverse(all).Skip(3).Take(5)), Ids(await postgres.ReadListAsync(With(Query(filter), newest: 5, skip: 3), None)));
        Assert.Equal(Ids(Enumerable.Reverse(all.Where(e => e.Sequence > 60)).Take(4)), Ids(await jsonl.ReadListAsync(With(Query(filter), newest: 4, after: 60), None)));
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Walking_pages_with_First_and_AfterSequence_returns_every_event_once_in_order(string filter)
    {
        var (jsonl, postgres) = await BothWith(Mixed(90));
        foreach (var ledger in new ILedger[] { jsonl, postgres })
        {
            var walked = new List<AuditEvent>();
            var after = 0L;
            while (true)
            {
                var page = await ledger.ReadListAsync(With(Query(filter), first: 4, after: after), None);
                walked.AddRange(page);
                if (page.Count < 4)
                {
                    break;
                }

                after = page[^1].Sequence;
            }

            Assert.Equal(Ids(await ledger.ReadListAsync(Query(filter), None)), Ids(walked));
            Assert.Equal(walked.Count, walked.Select(e => e.EventId).Distinct().Count());
            Assert.True(walked.Zip(walked.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "pages are in sequence order");
        }
    }

    [Fact]
    public async Task SQL_looking_filter_values_stay_values()
    {
        var events = Mixed(12).Append(Event(13, "x' OR '1'='1", "prod'; DELETE FROM pms_flags.events; --", user: "\"; TRUNCATE pms_flags.events; --")).ToArray();
        var (jsonl, postgres) = await BothWith(events);
        foreach (var query in new[]
        {
            new AuditQuery { Flag = "' OR 1=1 --" },
            new AuditQuery { Environment = "staging' OR 'a'='a" },
            new AuditQuery { User = "%" },
            new AuditQuery { Flag = "new_billing", Skip = 1, First = 2, AfterSequence = 0 },
        })
        {
            Assert.Equal(Ids(await jsonl.ReadListAsync(query, None)), Ids(await postgres.ReadListAsync(query, None)));
        }

        Assert.Empty(await postgres.ReadListAsync(new AuditQuery { Flag = "' OR 1=1 --" }, None));
        var odd = await postgres.ReadListAsync(new AuditQuery { Flag = "x' OR '1'='1", Environment = "prod'; DELETE FROM pms_flags.events; --", First = 5, Skip = 0 }, None);
        Assert.Equal(13, Assert.Single(odd).Sequence);
        Assert.Equal("13", cluster.Sql("SELECT count(*) FROM pms_flags.events", databaseName));
    }

    [Theory]
    [InlineData("flag+since", "Index Cond: (lower(feature_flag) = 'new_billing'::text")]
    [InlineData("flag+environment+after", "Index Scan using events_flag_env_seq")]
    [InlineData("after", "Index Scan using events_pkey")]
    public async Task The_PostgreSQL_query_runs_on_an_index(string shape, string index)
    {
        var postgres = await Open();
        await postgres.AppendAsync(Mixed(30), null, false, None);
        var query = shape switch
        {
            "flag+since" => new AuditQuery { Flag = "new_billing", Since = DateTimeOffset.UtcNow.AddDays(-30) },
            "flag+environment+after" => new AuditQuery { Flag = "new_billing", Environment = "staging", AfterSequence = 10, First = 5 },
            _ => new AuditQuery { AfterSequence = 10, First = 5 },
        };

        // The exact statement the ledger sends (its private BuildQuery), explained with its parameters. A table this
        // small is cheaper to scan, so the scan is priced out: the point is that the statement can use the index at all
        // (an expression that does not match the index's, lower(x) against x, would fall back to a scan here too). For
        // -Flag -Since either flag index serves (events_flag_ts, or events_flag_env_seq's leading column); the bench's
        // EXPLAIN at 1,000,000 events shows which one the planner takes at scale.
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        var build = typeof(PostgresLedger).GetMethod("BuildQuery", BindingFlags.Instance | BindingFlags.NonPublic)!;
        await using var command = (NpgsqlCommand)build.Invoke(postgres, new object[] { connection, query })!;
        command.CommandText = "EXPLAIN " + command.CommandText;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join("\n", plan);
        Assert.True(text.Contains(index, StringComparison.Ordinal), text);
        Assert.False(text.Contains("Seq Scan", StringComparison.Ordinal), text);
    }

    private Task<PostgresLedger> Open() => PostgresLedger.OpenAsync(DatabaseTarget.Parse(connectionString, TimeSpan.FromSeconds(10)), null, None);

    private async Task<(JsonlLedger Jsonl, PostgresLedger Postgres)> BothWith(AuditEvent[] events)
    {
        var postgres = await Open();
        var jsonl = new JsonlLedger(temp.Combine("audit.jsonl"));
        foreach (var chunk in events.Chunk(10))
        {
            await postgres.AppendAsync(chunk, null, false, None);
            await jsonl.AppendAsync(chunk, null, false, None);
        }

        return (jsonl, postgres);
    }

    private static AuditQuery Query(string filter) => filter switch
    {
        "flag" => new AuditQuery { Flag = "NEW_billing" },
        "environment" => new AuditQuery { Environment = "staging" },
        "flag+environment" => new AuditQuery { Flag = "checkout_v2", Environment = "Production" },
        "types" => new AuditQuery { EventTypes = new[] { "rollout_started", "emergency_rollback" } },
        "user" => new AuditQuery { User = "bob@pms.example" },
        "rollout" => new AuditQuery { RolloutId = "r-6" },
        "since" => new AuditQuery { Since = Start.AddDays(20) },
        "until" => new AuditQuery { Until = Start.AddDays(70) },
        "since+until+flag" => new AuditQuery { Flag = "new_billing", Since = Start.AddDays(10), Until = Start.AddDays(80) },
        _ => new AuditQuery(),
    };

    private static AuditQuery With(AuditQuery q, int? first = null, int? newest = null, int? skip = null, long? after = null) => new()
    {
        Flag = q.Flag,
        Environment = q.Environment,
        EventTypes = q.EventTypes,
        User = q.User,
        RolloutId = q.RolloutId,
        Since = q.Since,
        Until = q.Until,
        First = first,
        Newest = newest,
        Skip = skip,
        AfterSequence = after,
    };

    private static string[] Ids(IEnumerable<AuditEvent> events) => events.Select(e => $"{e.Sequence}:{e.EventId}").ToArray();

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static AuditEvent Event(int n, string flag, string environment, string type = "feature_flag_toggled", string user = "alice@pms.example", string? rollout = null) => new()
    {
        Timestamp = Start.AddDays(n),
        EventType = type,
        UserId = user,
        FeatureFlag = flag,
        Environment = environment,
        Reason = $"reason {n}",
        RolloutPercentage = n % 101,
        RolloutId = rollout,
        EventId = $"00000000-0000-0000-0000-{n:D12}",
    };

    private static AuditEvent[] Mixed(int count) => Enumerable.Range(1, count).Select(n => Event(
        n,
        n % 3 == 0 ? "checkout_v2" : "new_billing",
        n % 2 == 0 ? "staging" : "production",
        n % 4 == 0 ? "rollout_started" : "feature_flag_toggled",
        n % 5 == 0 ? "bob@pms.example" : "alice@pms.example",
        n % 6 == 0 ? "R-6" : null)).ToArray();
}
