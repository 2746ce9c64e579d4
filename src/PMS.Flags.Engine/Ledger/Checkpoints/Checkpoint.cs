using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// A signed statement "the ledger's event #Sequence had hash HeadHash at Timestamp", chained to the checkpoint before it
/// by that one's signature, as CloudTrail's digest files are: whoever can rewrite the ledger cannot rewrite the
/// checkpoints without the private key, so truncation and a consistent rewrite show. LedgerLength (bytes up to and
/// including the sealed line, JSONL ledgers only) lets verification on open start at the seal instead of at #1.
/// </summary>
public sealed class Checkpoint
{
    private const string PayloadVersion = "pms-flags-checkpoint/v1";

    public long Sequence { get; init; }

    public string HeadHash { get; init; } = "";

    public long? LedgerLength { get; init; }

    public DateTimeOffset Timestamp { get; init; }

    public string? PreviousSignature { get; init; }

    public string KeyFingerprint { get; init; } = "";

    public string Signature { get; init; } = "";

    /// <summary>The exact bytes that are signed: every field but the signature, in a fixed order, one a line.</summary>
    public byte[] SignedPayload() => System.Text.Encoding.UTF8.GetBytes(string.Join(
        "\n",
        PayloadVersion,
        Sequence.ToString(CultureInfo.InvariantCulture),
        HeadHash,
        LedgerLength?.ToString(CultureInfo.InvariantCulture) ?? "",
        Timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
        PreviousSignature ?? "",
        KeyFingerprint));

    public Checkpoint WithSignature(string signature) => new()
    {
        Sequence = Sequence,
        HeadHash = HeadHash,
        LedgerLength = LedgerLength,
        Timestamp = Timestamp,
        PreviousSignature = PreviousSignature,
        KeyFingerprint = KeyFingerprint,
        Signature = signature,
    };

    public string ToLine() => new JObject
    {
        ["sequence"] = Sequence,
        ["head_hash"] = HeadHash,
        ["ledger_length"] = LedgerLength,
        ["timestamp"] = Timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
        ["previous_signature"] = PreviousSignature,
        ["key_fingerprint"] = KeyFingerprint,
        ["signature"] = Signature,
    }.ToString(Formatting.None);

    /// <summary>Reads one checkpoint line; anything else is CheckpointFileMalformed naming the file and line.</summary>
    public static Checkpoint Parse(string line, string file, long lineNumber)
    {
        try
        {
            using var reader = new JsonTextReader(new StringReader(line)) { DateParseHandling = DateParseHandling.None };
            var o = JObject.Load(reader);
            var sequence = o.Value<long?>("sequence");
            var headHash = o.Value<string?>("head_hash");
            var timestamp = o.Value<string?>("timestamp");
            var fingerprint = o.Value<string?>("key_fingerprint");
            var signature = o.Value<string?>("signature");
            if (sequence is null || sequence < 1 || headHash is null || !Sha256Value.TryParse(headHash, out _) || timestamp is null || fingerprint is null || signature is null)
            {
                throw new FormatException("a field is missing or not of its type");
            }

            return new Checkpoint
            {
                Sequence = sequence.Value,
                HeadHash = headHash,
                LedgerLength = o.Value<long?>("ledger_length"),
                Timestamp = DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                PreviousSignature = o.Value<string?>("previous_signature"),
                KeyFingerprint = fingerprint,
                Signature = signature,
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            throw new FlagsException("CheckpointFileMalformed", FlagsErrorKind.InvalidData, $"Line {lineNumber} of the checkpoint file '{file}' is not a checkpoint ({ex.Message}).", file, ex);
        }
    }

    public override string ToString() => $"#{Sequence} {HeadHash} by key {KeyFingerprint[..Math.Min(16, KeyFingerprint.Length)]}";
}
