using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>
/// Writes a valid hash-chained ledger of unrelated flag events straight to disk: appending them one by one would fsync
/// 100,000 times, and even the codec's general serializer takes seconds. The lines are the codec's canonical form
/// (keys sorted, hash appended) built from a template; <see cref="Event"/> gives the same event as an AuditEvent so a
/// test can check that the codec writes exactly the same line.
/// </summary>
internal static class LedgerFiller
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static void Fill(string path, int count)
    {
        string? previous = null;
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        for (var i = 1; i <= count; i++)
        {
            var canonical = Canonical(i, previous);
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant();
            writer.Write(canonical.AsSpan(0, canonical.Length - 1));
            writer.Write(",\"hash\":\"");
            writer.Write(hash);
            writer.Write("\"}\n");
            previous = hash;
        }
    }

    public static AuditEvent Event(int i, string? previousHash) => new AuditEvent
    {
        Timestamp = Start.AddSeconds(i),
        EventType = i % 10 == 0 ? "emergency_rollback" : "feature_flag_toggled",
        UserId = $"user{i % 17}@pms.example.com",
        FeatureFlag = $"unrelated_flag_{i % 250}",
        PreviousState = i % 2 == 0,
        NewState = i % 2 == 1,
        Environment = i % 3 == 0 ? "staging" : "production",
        Reason = $"Gradual rollout - Phase {i % 4} of an unrelated feature",
        RolloutPercentage = i % 101,
        ApprovalTicket = $"TICKET-{i}",
        EventId = EventId(i),
        RolloutId = i % 5 == 0 ? $"ro-unrelated-{i % 300}" : null,
        Store = "LocalFile:/srv/pms/feature_flags.json",
        PreviousPercentage = (i + 50) % 101,
        Outcome = "applied",
        Details = "{\"change\":\"SetPercentage\",\"requested_percentage\":25}",
    }.WithChain(i, previousHash, "");

    public static string Canonical(int i, string? previousHash)
    {
        var e = Event(i, previousHash);
        static string Str(string? s) => s is null ? "null" : $"\"{s}\"";
        static string Bool(bool? b) => b is null ? "null" : b.Value ? "true" : "false";
        return string.Concat(
            "{\"approval_ticket\":", Str(e.ApprovalTicket),
            ",\"details\":{\"change\":\"SetPercentage\",\"requested_percentage\":25}",
            ",\"environment\":", Str(e.Environment),
            ",\"event_id\":", Str(e.EventId),
            ",\"event_type\":", Str(e.EventType),
            ",\"feature_flag\":", Str(e.FeatureFlag),
            ",\"new_state\":", Bool(e.NewState),
            ",\"outcome\":", Str(e.Outcome),
            ",\"prev_hash\":", Str(e.PrevHash),
            ",\"previous_percentage\":", ((long)e.PreviousPercentage!).ToString(CultureInfo.InvariantCulture),
            ",\"previous_state\":", Bool(e.PreviousState),
            ",\"reason\":", Str(e.Reason),
            ",\"rollout_id\":", Str(e.RolloutId),
            ",\"rollout_percentage\":", ((long)e.RolloutPercentage!).ToString(CultureInfo.InvariantCulture),
            ",\"sequence\":", e.Sequence.ToString(CultureInfo.InvariantCulture),
            ",\"store\":", Str(e.Store),
            ",\"timestamp\":", Str(e.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            ",\"user_id\":", Str(e.UserId),
            "}");
    }

    private static string EventId(int i) => new Guid(i, 0, 0, new byte[8]).ToString("D");
}
