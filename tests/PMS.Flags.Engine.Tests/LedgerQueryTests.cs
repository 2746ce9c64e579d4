using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>AuditQuery filters through JsonlLedger.Read: each alone, combined with AND, case-insensitive where text.</summary>
public sealed class LedgerQueryTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();
    private JsonlLedger ledger = null!;

    // e0..e11:
    //   flag:  checkout_v2 when i % 3 == 0 (e0 e3 e6 e9), else search_v3
    //   env:   production when i is even, else staging
    //   type:  rollout_started when i % 4 == 0 (e0 e4 e8), emergency_rollback when i % 4 == 3 (e3 e7 e11), else feature_flag_toggled
    //   user:  alice for e0..e5, bob for e6..e11
    //   time:  T0 + 10 min * i;  rollout r-1 for e0 e5 e10
    private static AuditEvent Event(int i) => new()
    {
        Timestamp = T0.AddMinutes(10 * i),
        EventType = (i % 4) switch { 0 => "rollout_started", 3 => "emergency_rollback", _ => "feature_flag_toggled" },
        UserId = i < 6 ? "alice@pms.example" : "bob@pms.example",
        FeatureFlag = i % 3 == 0 ? "checkout_v2" : "search_v3",
        Environment = i % 2 == 0 ? "production" : "staging",
        Reason = $"e{i}",
        RolloutId = i % 5 == 0 ? "r-1" : null,
    };

    public async Task InitializeAsync()
    {
        ledger = new JsonlLedger(temp.Combine("audit.jsonl"));
        for (var i = 0; i < 12; i++)
        {
            await ledger.AppendAsync(Event(i), CancellationToken.None);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => temp.Dispose();

    private string[] Read(AuditQuery query) => ledger.Read(query, CancellationToken.None).Select(e => e.Reason!).ToArray();

    private static string[] E(params int[] ids) => ids.Select(i => $"e{i}").ToArray();

    [Fact]
    public void No_filter_returns_everything_in_order()
    {
        Assert.Equal(E(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), Read(AuditQuery.All));
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), ledger.Read(AuditQuery.All, CancellationToken.None).Select(e => e.Sequence));
    }

    [Fact]
    public void Flag_filter_is_case_insensitive()
    {
        Assert.Equal(E(0, 3, 6, 9), Read(new AuditQuery { Flag = "checkout_v2" }));
        Assert.Equal(E(0, 3, 6, 9), Read(new AuditQuery { Flag = "CHECKOUT_V2" }));
        Assert.Empty(Read(new AuditQuery { Flag = "checkout" }));
    }

    [Fact]
    public void Environment_filter_is_case_insensitive()
    {
        Assert.Equal(E(1, 3, 5, 7, 9, 11), Read(new AuditQuery { Environment = "staging" }));
        Assert.Equal(E(0, 2, 4, 6, 8, 10), Read(new AuditQuery { Environment = "Production" }));
    }

    [Fact]
    public void EventTypes_filter_matches_any_listed_type()
    {
        Assert.Equal(E(3, 7, 11), Read(new AuditQuery { EventTypes = new[] { "emergency_rollback" } }));
        Assert.Equal(E(0, 3, 4, 7, 8, 11), Read(new AuditQuery { EventTypes = new[] { "EMERGENCY_ROLLBACK", "rollout_started" } }));
        Assert.Equal(12, Read(new AuditQuery { EventTypes = Array.Empty<string>() }).Length);
    }

    [Fact]
    public void User_filter_is_case_insensitive()
    {
        Assert.Equal(E(6, 7, 8, 9, 10, 11), Read(new AuditQuery { User = "BOB@pms.example" }));
        Assert.Empty(Read(new AuditQuery { User = "bob" }));
    }

    [Fact]
    public void RolloutId_filter()
    {
        Assert.Equal(E(0, 5, 10), Read(new AuditQuery { RolloutId = "R-1" }));
    }

    [Fact]
    public void Since_and_Until_are_inclusive()
    {
        Assert.Equal(E(4, 5, 6, 7, 8, 9, 10, 11), Read(new AuditQuery { Since = T0.AddMinutes(40) }));
        Assert.Equal(E(5, 6, 7, 8, 9, 10, 11), Read(new AuditQuery { Since = T0.AddMinutes(40).AddMilliseconds(1) }));
        Assert.Equal(E(0, 1, 2), Read(new AuditQuery { Until = T0.AddMinutes(20) }));
        Assert.Equal(E(3, 4, 5), Read(new AuditQuery { Since = T0.AddMinutes(30), Until = T0.AddMinutes(50) }));
    }

    [Fact]
    public void Since_compares_instants_whatever_the_offset()
    {
        // 12:40 at +02:00 is 10:40 UTC: e4 onwards.
        Assert.Equal(E(4, 5, 6, 7, 8, 9, 10, 11), Read(new AuditQuery { Since = new DateTimeOffset(2025, 3, 1, 12, 40, 0, TimeSpan.FromHours(2)) }));
    }

    [Fact]
    public void First_limits_the_count_after_filtering()
    {
        Assert.Equal(E(0, 1, 2), Read(new AuditQuery { First = 3 }));
        Assert.Equal(E(1, 2), Read(new AuditQuery { Flag = "search_v3", First = 2 }));
        Assert.Equal(E(3, 9), Read(new AuditQuery { Flag = "checkout_v2", Environment = "staging", First = 10 }));
    }

    [Fact]
    public void Filters_combine_with_and()
    {
        Assert.Equal(E(7, 11), Read(new AuditQuery { Environment = "staging", User = "bob@pms.example", EventTypes = new[] { "emergency_rollback" } }));
        Assert.Equal(E(6), Read(new AuditQuery { Flag = "checkout_v2", Environment = "production", User = "bob@pms.example" }));
        Assert.Equal(E(2, 4), Read(new AuditQuery { Flag = "search_v3", Environment = "production", Since = T0.AddMinutes(5), Until = T0.AddMinutes(45) }));
        Assert.Equal(E(6), Read(new AuditQuery { Flag = "checkout_v2", EventTypes = new[] { "feature_flag_toggled" }, Environment = "production" }));
        Assert.Empty(Read(new AuditQuery { Flag = "checkout_v2", EventTypes = new[] { "emergency_rollback" }, Environment = "production" }));
    }

    [Fact]
    public void Every_filter_agrees_with_Matches_on_every_event()
    {
        var queries = new[]
        {
            new AuditQuery { Flag = "search_v3", User = "alice@pms.example" },
            new AuditQuery { EventTypes = new[] { "feature_flag_toggled" }, Until = T0.AddMinutes(70) },
            new AuditQuery { Environment = "STAGING", RolloutId = "r-1" },
        };
        var all = ledger.Read(AuditQuery.All, CancellationToken.None).ToArray();
        foreach (var query in queries)
        {
            var expected = all.Where(query.Matches).Select(e => e.Reason).ToArray();
            Assert.NotEmpty(expected);
            Assert.True(expected.Length < all.Length);
            Assert.Equal(expected, Read(query));
        }
    }
}
