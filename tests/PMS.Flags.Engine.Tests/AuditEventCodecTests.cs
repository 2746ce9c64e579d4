using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>The ledger's wire format: canonical JSON (ordinal key order, compact) hashed with SHA-256.</summary>
public sealed class AuditEventCodecTests
{
    private static AuditEvent Full() => new()
    {
        Timestamp = new DateTimeOffset(2025, 3, 1, 12, 30, 15, 123, TimeSpan.Zero),
        EventType = "rollout_stage_advanced",
        UserId = "alice@pms.example",
        FeatureFlag = "checkout_v2",
        PreviousState = true,
        NewState = true,
        Environment = "production",
        Reason = "stage 2: Überprüfung ok ✓ \"quoted\"",
        RolloutPercentage = 12.5m,
        ApprovalTicket = "CHG-1234",
        EventId = "3f1c9e4a-0000-4000-8000-000000000001",
        Sequence = 7,
        RolloutId = "r-42",
        Store = "LocalFile:/srv/feature_flags.json",
        PreviousPercentage = 5m,
        Outcome = "applied",
        Details = "{\"zeta\":1,\"alpha\":{\"y\":[3,1.5,\"x\"],\"b\":null}}",
        PrevHash = new string('a', 64),
    };

    private static List<string> PropertyNames(string json)
    {
        var names = new List<string>();
        using var reader = new JsonTextReader(new StringReader(json));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonToken.PropertyName)
        {
            names.Add((string)reader.Value!);
            reader.Read();
            reader.Skip();
        }

        return names;
    }

    private static bool HasWhitespaceOutsideStrings(string json)
    {
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                return true;
            }
        }

        return false;
    }

    private static string Sha256Hex(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    [Fact]
    public void ToLine_is_compact_with_keys_in_ordinal_order_and_the_hash_last()
    {
        var line = AuditEventCodec.ToLine(Full(), out _);

        var names = PropertyNames(line);
        Assert.Equal("hash", names[^1]);
        var withoutHash = names.Take(names.Count - 1).ToArray();
        Assert.Equal(withoutHash.Order(StringComparer.Ordinal), withoutHash);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.False(HasWhitespaceOutsideStrings(line));
        Assert.DoesNotContain('\n', line);
        // Nested objects are canonical too.
        Assert.Contains("\"details\":{\"alpha\":{\"b\":null,\"y\":[3,1.5,\"x\"]},\"zeta\":1}", line);
    }

    [Fact]
    public void The_hash_is_sha256_hex_of_the_canonical_form_without_hash()
    {
        var line = AuditEventCodec.ToLine(Full(), out var hash);

        var hashMember = $",\"hash\":\"{hash}\"}}";
        Assert.EndsWith(hashMember, line);
        var canonicalWithoutHash = line[..^hashMember.Length] + "}";
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(Sha256Hex(canonicalWithoutHash), hash);
        Assert.Equal(hash, AuditEventCodec.ComputeHash(Full()));
        Assert.Equal(hash, AuditEventCodec.CanonicalHashOfLine(line));
        Assert.Contains($"\"prev_hash\":\"{new string('a', 64)}\"", canonicalWithoutHash);
    }

    [Fact]
    public void The_hash_changes_when_any_field_or_the_previous_hash_changes()
    {
        var baseHash = AuditEventCodec.ComputeHash(Full());
        var original = Full();
        var variants = new[]
        {
            original.WithChain(original.Sequence, new string('b', 64), ""),
            original.WithChain(original.Sequence + 1, original.PrevHash, ""),
        };

        foreach (var variant in variants)
        {
            Assert.NotEqual(baseHash, AuditEventCodec.ComputeHash(variant));
        }

        var line = AuditEventCodec.ToLine(original, out _);
        var tampered = line.Replace("\"rollout_percentage\":12.5", "\"rollout_percentage\":12.6");
        Assert.NotEqual(line, tampered);
        Assert.NotEqual(baseHash, AuditEventCodec.CanonicalHashOfLine(tampered));
    }

    [Fact]
    public void ParseLine_round_trips_every_field()
    {
        var original = Full();
        var line = AuditEventCodec.ToLine(original, out var hash);

        var parsed = AuditEventCodec.ParseLine(line);

        Assert.Equal(original.Timestamp, parsed.Timestamp);
        Assert.Equal(TimeSpan.Zero, parsed.Timestamp.Offset);
        Assert.Equal(original.EventType, parsed.EventType);
        Assert.Equal(original.UserId, parsed.UserId);
        Assert.Equal(original.FeatureFlag, parsed.FeatureFlag);
        Assert.Equal(original.PreviousState, parsed.PreviousState);
        Assert.Equal(original.NewState, parsed.NewState);
        Assert.Equal(original.Environment, parsed.Environment);
        Assert.Equal(original.Reason, parsed.Reason);
        Assert.Equal(12.5m, parsed.RolloutPercentage);
        Assert.Equal(original.ApprovalTicket, parsed.ApprovalTicket);
        Assert.Equal(original.EventId, parsed.EventId);
        Assert.Equal(7, parsed.Sequence);
        Assert.Equal(original.RolloutId, parsed.RolloutId);
        Assert.Equal(original.Store, parsed.Store);
        Assert.Equal(5m, parsed.PreviousPercentage);
        Assert.Equal(original.Outcome, parsed.Outcome);
        Assert.True(JToken.DeepEquals(JToken.Parse(original.Details!), JToken.Parse(parsed.Details!)));
        Assert.Equal(original.PrevHash, parsed.PrevHash);
        Assert.Equal(hash, parsed.Hash);
        Assert.Equal(hash, AuditEventCodec.ComputeHash(parsed));
        Assert.Equal(line, AuditEventCodec.ToLine(parsed, out _));
    }

    [Fact]
    public void Integers_stay_integers_and_nulls_round_trip()
    {
        var sparse = new AuditEvent
        {
            Timestamp = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero),
            EventType = "guardrail_breached",
            RolloutPercentage = 25m,
            EventId = "e",
        };
        var line = AuditEventCodec.ToLine(sparse, out _);

        Assert.Contains("\"rollout_percentage\":25,", line);
        var parsed = AuditEventCodec.ParseLine(line);
        Assert.Equal(25m, parsed.RolloutPercentage);
        Assert.Null(parsed.UserId);
        Assert.Null(parsed.FeatureFlag);
        Assert.Null(parsed.PreviousState);
        Assert.Null(parsed.NewState);
        Assert.Null(parsed.Environment);
        Assert.Null(parsed.Reason);
        Assert.Null(parsed.ApprovalTicket);
        Assert.Null(parsed.RolloutId);
        Assert.Null(parsed.Store);
        Assert.Null(parsed.PreviousPercentage);
        Assert.Null(parsed.Outcome);
        Assert.Null(parsed.Details);
        Assert.Null(parsed.PrevHash);
        Assert.Equal(line, AuditEventCodec.ToLine(parsed, out _));
    }

    [Fact]
    public void Every_playbook_field_is_present_in_every_line_and_null_where_not_applicable()
    {
        var minimal = new AuditEvent { EventType = "migration_applied" };
        var minimalObject = JObject.Parse(AuditEventCodec.ToLine(minimal, out _));
        var fullObject = JObject.Parse(AuditEventCodec.ToLine(Full(), out _));

        foreach (var field in Events.PlaybookFields)
        {
            Assert.True(minimalObject.ContainsKey(field), $"{field} missing");
            Assert.True(fullObject.ContainsKey(field), $"{field} missing");
            Assert.NotEqual(JTokenType.Null, fullObject[field]!.Type);
        }

        foreach (var field in Events.PlaybookFields.Except(new[] { "timestamp", "event_type" }))
        {
            Assert.Equal(JTokenType.Null, minimalObject[field]!.Type);
        }

        Assert.Equal("migration_applied", (string?)minimalObject["event_type"]);
    }

    [Fact]
    public void The_timestamp_is_utc_iso8601_ending_in_Z()
    {
        var local = new DateTimeOffset(2025, 3, 1, 14, 5, 6, 789, TimeSpan.FromHours(2)).AddTicks(4321);
        var line = AuditEventCodec.ToLine(new AuditEvent { Timestamp = local, EventType = "x" }, out _);

        using var reader = new JsonTextReader(new StringReader(line)) { DateParseHandling = DateParseHandling.None };
        var raw = (string)JToken.ReadFrom(reader)["timestamp"]!;
        Assert.Matches(new Regex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"), raw);
        Assert.Equal("2025-03-01T12:05:06.789Z", raw);
        Assert.Equal(
            DateTimeOffset.Parse("2025-03-01T12:05:06.789Z", CultureInfo.InvariantCulture),
            AuditEventCodec.ParseLine(line).Timestamp);
    }

    [Fact]
    public void A_reformatted_line_with_the_same_meaning_still_verifies()
    {
        var line = AuditEventCodec.ToLine(Full(), out var hash);
        var parsed = (JObject)AuditEventCodec.ParseJson(line);

        var shuffled = new JObject(parsed.Properties().Reverse().Select(p => new JProperty(p.Name, p.Value)));
        var pretty = shuffled.ToString(Formatting.Indented);

        Assert.NotEqual(line, pretty);
        Assert.Contains('\n', pretty);
        Assert.Equal(hash, AuditEventCodec.CanonicalHashOfLine(pretty));
        Assert.Equal(hash, AuditEventCodec.CanonicalHashOfLine(shuffled.ToString(Formatting.None)));
        Assert.Null(AuditEventCodec.VerifiedHashFromWriterBytes(pretty));
        Assert.Equal(hash, AuditEventCodec.VerifiedHashFromWriterBytes(line));
        var tampered = line.Replace("\"reason\":\"", "\"reason\":\"X", StringComparison.Ordinal);
        Assert.Null(AuditEventCodec.VerifiedHashFromWriterBytes(tampered));
    }
}
