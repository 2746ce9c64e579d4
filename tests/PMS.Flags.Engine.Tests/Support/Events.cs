using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Tests.Support;

public static class Events
{
    public static readonly string[] PlaybookFields =
    {
        "timestamp", "event_type", "user_id", "feature_flag", "previous_state", "new_state", "environment", "reason", "rollout_percentage", "approval_ticket",
    };

    public static AuditEvent Toggled(int n, DateTimeOffset? at = null) => new()
    {
        Timestamp = at ?? new DateTimeOffset(2025, 3, 1, 10, 0, 0, TimeSpan.Zero).AddMinutes(n),
        EventType = "feature_flag_toggled",
        UserId = "alice@pms.example",
        FeatureFlag = "checkout_v2",
        PreviousState = n % 2 == 0,
        NewState = n % 2 == 1,
        Environment = "staging",
        Reason = $"reason-{n}",
        RolloutPercentage = n,
    };

    /// <summary>A ledger file with <paramref name="count"/> chained events; returns the ledger and its lines.</summary>
    public static async Task<JsonlLedger> LedgerWith(string path, int count)
    {
        var ledger = new JsonlLedger(path);
        for (var i = 1; i <= count; i++)
        {
            await ledger.AppendAsync(Toggled(i), CancellationToken.None);
        }

        return ledger;
    }

    /// <summary>Appends one event on condition that its flag's stream has not moved since <paramref name="readAt"/>.</summary>
    public static async Task<AuditEvent> AppendAt(ILedger ledger, AuditEvent draft, long readAt)
        => (await ledger.AppendAsync(new[] { draft }, new LedgerExpectation(LedgerStream.FlagIn(draft.FeatureFlag!, draft.Environment!), readAt), false, CancellationToken.None))[0];

    public static string[] Lines(string path) => File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static void WriteLines(string path, IEnumerable<string> lines) => File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
}
