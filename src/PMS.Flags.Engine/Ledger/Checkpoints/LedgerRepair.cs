using System.Globalization;
using System.Security.Cryptography;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// Repairs the one thing a machine may repair: a torn tail (an unterminated last line left by a crash). The bytes are
/// copied to a quarantine file beside the ledger and fsynced before the ledger is cut back to its last complete line,
/// and the repair is recorded as its own event with the quarantined bytes' SHA-256. A complete event is never touched;
/// any other problem is a person's to look at, and is refused.
/// </summary>
public static class LedgerRepair
{
    /// <summary>The verdict that makes a repair possible; throws LedgerNotTorn for anything else.</summary>
    public static ChainVerification Inspect(JsonlLedger ledger, CancellationToken cancellationToken)
    {
        var verdict = ledger.Verify(ChainScanOptions.FromStart, 0, cancellationToken);
        if (verdict.Problem == "torn_tail")
        {
            return verdict;
        }

        throw new FlagsException(
            "LedgerNotTorn",
            FlagsErrorKind.InvalidOperation,
            verdict.Valid
                ? $"The ledger '{ledger.Path}' has no torn tail: there is nothing to repair, and nothing was changed."
                : $"The ledger '{ledger.Path}' is broken at #{verdict.FirstBrokenSequence} ({verdict.Problem}), which is not a torn tail: Repair-FlagLedger never removes a complete event. Nothing was changed; run Test-FlagAuditChain.",
            ledger.Path);
    }

    public static string QuarantinePathFor(JsonlLedger ledger, DateTimeOffset now)
        => $"{ledger.Path}.torn-{now.UtcDateTime.ToString("yyyyMMddTHHmmssfffZ", CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.quarantine";

    public static async Task<LedgerRepairResult> RepairAsync(JsonlLedger ledger, AuditTrail trail, string? user, string? reason, CancellationToken cancellationToken)
    {
        Inspect(ledger, cancellationToken);
        var quarantinePath = QuarantinePathFor(ledger, DateTimeOffset.UtcNow);
        var (_, torn) = ledger.CutTornTail(quarantinePath, cancellationToken);
        var hash = Convert.ToHexString(SHA256.HashData(torn)).ToLowerInvariant();
        trail.Log.Warning($"Moved the torn tail of '{ledger.Path}' ({torn.Length} byte(s), SHA-256 {hash}) to '{quarantinePath}'.");
        var record = await trail.RecordAsync(
            new AuditEvent
            {
                EventType = LedgerEventTypes.Repaired,
                UserId = UserIdentity.Resolve(user),
                Reason = reason ?? "torn tail moved to quarantine",
                Outcome = "quarantined",
                Details = new JObject
                {
                    ["quarantine_file"] = quarantinePath,
                    ["quarantined_bytes"] = torn.Length,
                    ["quarantined_sha256"] = hash,
                }.ToString(Newtonsoft.Json.Formatting.None),
            },
            cancellationToken).ConfigureAwait(false);
        return new LedgerRepairResult
        {
            Ledger = ledger.Name,
            QuarantinePath = quarantinePath,
            QuarantinedBytes = torn.Length,
            QuarantinedSha256 = hash,
            Sequence = record.Sequence,
        };
    }
}
