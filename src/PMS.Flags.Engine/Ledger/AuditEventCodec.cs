using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The ledger's wire format. The canonical form of an event is its JSON object without "hash", keys sorted by ordinal
/// at every depth, no whitespace; the hash is SHA-256 over that canonical form (which includes prev_hash). The writer
/// stores exactly the canonical form with the hash appended, so a verifier can check an untouched line from its bytes.
/// </summary>
public static class AuditEventCodec
{
    public const string HashField = "hash";
    private const string HashSuffixStart = ",\"hash\":\"";
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    [ThreadStatic]
    private static byte[]? hashBuffer;

    [ThreadStatic]
    private static byte[]? utf8Scratch;

    private static ReadOnlySpan<byte> HashSuffixStartUtf8 => ",\"hash\":\""u8;

    public static string ToLine(AuditEvent auditEvent, out string hash)
    {
        var canonical = Canonical(ToJObject(auditEvent, includeHash: false));
        hash = Sha256Hex(canonical);
        return string.Concat(canonical.AsSpan(0, canonical.Length - 1), HashSuffixStart, hash, "\"}");
    }

    public static string ComputeHash(AuditEvent auditEvent) => Sha256Hex(Canonical(ToJObject(auditEvent, includeHash: false)));

    public static JObject ToJObject(AuditEvent e, bool includeHash)
    {
        var o = new JObject
        {
            ["timestamp"] = e.Timestamp.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture),
            ["event_type"] = e.EventType,
            ["user_id"] = e.UserId,
            ["feature_flag"] = e.FeatureFlag,
            ["previous_state"] = e.PreviousState,
            ["new_state"] = e.NewState,
            ["environment"] = e.Environment,
            ["reason"] = e.Reason,
            ["rollout_percentage"] = Number(e.RolloutPercentage),
            ["approval_ticket"] = e.ApprovalTicket,
            ["event_id"] = e.EventId,
            ["sequence"] = e.Sequence,
            ["rollout_id"] = e.RolloutId,
            ["store"] = e.Store,
            ["previous_percentage"] = Number(e.PreviousPercentage),
            ["outcome"] = e.Outcome,
            ["details"] = e.Details is null ? JValue.CreateNull() : ParseJson(e.Details),
            ["prev_hash"] = e.PrevHash,
        };
        if (includeHash)
        {
            o[HashField] = e.Hash;
        }

        return o;
    }

    public static AuditEvent FromJObject(JObject o) => new()
    {
        Timestamp = DateTimeOffset.Parse((string?)o["timestamp"] ?? throw new FormatException("timestamp is missing"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        EventType = (string?)o["event_type"] ?? "",
        UserId = (string?)o["user_id"],
        FeatureFlag = (string?)o["feature_flag"],
        PreviousState = (bool?)o["previous_state"],
        NewState = (bool?)o["new_state"],
        Environment = (string?)o["environment"],
        Reason = (string?)o["reason"],
        RolloutPercentage = (decimal?)o["rollout_percentage"],
        ApprovalTicket = (string?)o["approval_ticket"],
        EventId = (string?)o["event_id"] ?? "",
        Sequence = (long?)o["sequence"] ?? 0,
        RolloutId = (string?)o["rollout_id"],
        Store = (string?)o["store"],
        PreviousPercentage = (decimal?)o["previous_percentage"],
        Outcome = (string?)o["outcome"],
        Details = o["details"] is { Type: not JTokenType.Null } d ? d.ToString(Formatting.None) : null,
        PrevHash = (string?)o["prev_hash"],
        Hash = (string?)o[HashField],
    };

    public static AuditEvent ParseLine(string line) => FromJObject(ParseJson(line) as JObject ?? throw new FormatException("An audit line is not a JSON object."));

    public static JToken ParseJson(string json)
    {
        using var reader = new JsonTextReader(new StringReader(json))
        {
            DateParseHandling = DateParseHandling.None,
            FloatParseHandling = FloatParseHandling.Decimal,
        };
        var token = JToken.ReadFrom(reader);
        if (reader.Read())
        {
            throw new FormatException("Unexpected text after the JSON value.");
        }

        return token;
    }

    public static string Canonical(JToken token)
    {
        var builder = new StringBuilder(512);
        using (var writer = new JsonTextWriter(new StringWriter(builder, CultureInfo.InvariantCulture)) { Formatting = Formatting.None })
        {
            WriteCanonical(writer, token);
        }

        return builder.ToString();
    }

    /// <summary>Hash of a stored line's meaning: the line parsed, its "hash" removed, re-canonicalized.</summary>
    public static string CanonicalHashOfLine(string line)
    {
        var o = (JObject)ParseJson(line);
        o.Remove(HashField);
        return Sha256Hex(Canonical(o));
    }

    /// <summary>
    /// Fast path for a line exactly as the writer produced it: checks the hash over the line's own prefix without a
    /// JSON parse. Returns the stored hash when the line is in writer form and its hash holds; null otherwise
    /// (the caller then falls back to parsing and re-canonicalizing).
    /// </summary>
    public static string? VerifiedHashFromWriterBytes(string line)
        => TryVerifyWriterBytes(line, out var hash) ? hash.ToString() : null;

    /// <summary>The allocation-free form of <see cref="VerifiedHashFromWriterBytes"/>, for verifying whole ledgers.</summary>
    public static bool TryVerifyWriterBytes(string line, out Sha256Value hash) => TryVerifyWriterBytes(Utf8Scratch(line), out hash);

    /// <summary>
    /// The same check on the line's UTF-8 bytes (a database's COPY stream, or a line encoded once by the verifier): the
    /// hash covers the line with its hash suffix cut off and the closing brace put back.
    /// </summary>
    public static bool TryVerifyWriterBytes(ReadOnlySpan<byte> line, out Sha256Value hash)
    {
        const int hexLength = 64;
        hash = default;
        var suffix = HashSuffixStartUtf8;
        var suffixLength = suffix.Length + hexLength + 2;
        if (line.Length < suffixLength + 2 || !line.EndsWith("\"}"u8) || !line.Slice(line.Length - suffixLength, suffix.Length).SequenceEqual(suffix))
        {
            return false;
        }

        if (!Sha256Value.TryParseUtf8(line.Slice(line.Length - hexLength - 2, hexLength), out var stored))
        {
            return false;
        }

        var canonicalLength = line.Length - suffixLength;
        // A per-thread buffer: verification hashes every line of the ledger, on several threads, and a fresh (zeroed)
        // buffer per line costs as much as the hashing itself.
        if (hashBuffer is null || hashBuffer.Length < canonicalLength + 1)
        {
            hashBuffer = new byte[Math.Max(canonicalLength + 1, 4096)];
        }

        line[..canonicalLength].CopyTo(hashBuffer);
        hashBuffer[canonicalLength] = (byte)'}';
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(hashBuffer.AsSpan(0, canonicalLength + 1), digest);
        if (Sha256Value.FromDigest(digest) != stored)
        {
            return false;
        }

        hash = stored;
        return true;
    }

    /// <summary>
    /// The line as UTF-8 in a per-thread buffer, valid until the next call on the same thread: the verifier reads a
    /// text line's hash and links from its bytes, exactly as it reads a line that arrived as bytes.
    /// </summary>
    internal static ReadOnlySpan<byte> Utf8Scratch(string line)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(line.Length);
        if (utf8Scratch is null || utf8Scratch.Length < maxBytes)
        {
            utf8Scratch = new byte[Math.Max(maxBytes, 4096)];
        }

        return utf8Scratch.AsSpan(0, Encoding.UTF8.GetBytes(line, utf8Scratch));
    }

    public static string Sha256Hex(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    // Integral percentages are written as integers so that parsing the line back (integers stay integers) round-trips exactly.
    private static JToken Number(decimal? value) => value switch
    {
        null => JValue.CreateNull(),
        { } v when v == decimal.Truncate(v) => new JValue((long)v),
        { } v => new JValue(v),
    };

    private static void WriteCanonical(JsonWriter writer, JToken token)
    {
        switch (token)
        {
            case JObject o:
                writer.WriteStartObject();
                foreach (var property in o.Properties().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JArray a:
                writer.WriteStartArray();
                foreach (var item in a)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                token.WriteTo(writer);
                break;
        }
    }
}
