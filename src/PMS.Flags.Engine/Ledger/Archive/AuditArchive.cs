using System.Security.Cryptography;
using System.Text;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Archive;

/// <summary>
/// Writes the events older than a cut to a JSONL archive file, byte for byte the lines a JSONL ledger holds, so the
/// archive verifies on its own (Test-FlagAuditChain -Path) as the first events of the chain. Nothing is ever deleted
/// from the ledger: every hash links to the one before it, so removing the oldest events would break the chain for
/// every event after them; the archive is the portable copy of the six-year record, not a replacement for it. A cut
/// inside the retention period (default six years, HIPAA 164.316(b)(2)) is refused before anything is read or written.
/// </summary>
public static class AuditArchive
{
    public const string ArchivedEventType = "audit_archived";

    /// <summary>Six years of 365.25 days: the HIPAA retention period for documentation (45 CFR 164.316(b)(2)(i)).</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(6 * 365.25);

    /// <summary>Refuses a cut that would archive events still inside the retention period.</summary>
    public static void EnsureRetentionElapsed(DateTimeOffset before, TimeSpan retention, DateTimeOffset now)
    {
        if (retention < TimeSpan.Zero)
        {
            throw new FlagsException("AuditRetentionInvalid", FlagsErrorKind.InvalidArgument, $"-RetentionPeriod {retention} is negative; nothing was archived.", retention);
        }

        var latestCut = now - retention;
        if (before > latestCut)
        {
            throw new FlagsException("AuditRetentionNotElapsed", FlagsErrorKind.InvalidOperation, $"-Before {before.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} is inside the retention period of {retention.TotalDays:0.##} days; only events before {latestCut.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} can be archived. Nothing was written.", before);
        }
    }

    /// <summary>
    /// The leading run of events older than <paramref name="before"/>, after checking the ledger verifies: a prefix, so
    /// the archive is a chain on its own. The run stops at the first event at or after the cut.
    /// </summary>
    public static async Task<IReadOnlyList<AuditEvent>> SelectAsync(ILedger ledger, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var verdict = await ledger.VerifyAsync(cancellationToken).ConfigureAwait(false);
        if (!verdict.Valid)
        {
            throw new FlagsException("AuditArchiveSourceBroken", FlagsErrorKind.InvalidData, $"The ledger {ledger.Name} does not verify (#{verdict.FirstBrokenSequence}: {verdict.Problem}); nothing was archived. Run Test-FlagAuditChain on it.", ledger.Name);
        }

        var selected = new List<AuditEvent>();
        await foreach (var e in ledger.ReadAsync(AuditQuery.All, cancellationToken).ConfigureAwait(false))
        {
            if (e.Timestamp >= before)
            {
                break;
            }

            selected.Add(e);
        }

        return selected;
    }

    /// <summary>
    /// Writes the events to a private (0600) file next to <paramref name="path"/>, fsyncs it and moves it into place, so
    /// a failure halfway leaves no partial archive under the final name. Each line is re-encoded and must reproduce the
    /// stored hash, or nothing is written.
    /// </summary>
    public static AuditArchiveResult Write(IReadOnlyList<AuditEvent> events, string path, DateTimeOffset before, bool overwrite)
    {
        if (events.Count == 0)
        {
            throw new FlagsException("AuditArchiveEmpty", FlagsErrorKind.InvalidOperation, $"The ledger holds no event before {before.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}; nothing was written.", before);
        }

        if (File.Exists(path) && !overwrite)
        {
            throw new FlagsException("AuditArchiveFileExists", FlagsErrorKind.InvalidOperation, $"'{path}' already exists; pass -Force to replace it. Nothing was written.", path);
        }

        var text = new StringBuilder();
        foreach (var e in events)
        {
            var line = AuditEventCodec.ToLine(e, out var hash);
            if (!string.Equals(hash, e.Hash, StringComparison.Ordinal))
            {
                throw new FlagsException("AuditArchiveSourceBroken", FlagsErrorKind.InvalidData, $"Event #{e.Sequence} does not reproduce its stored hash; nothing was archived. Run Test-FlagAuditChain on the ledger.", e.Sequence);
            }

            text.Append(line).Append('\n');
        }

        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text.ToString());
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            PrivateFiles.CreateFolder(folder);
        }

        var temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        try
        {
            using (var stream = PrivateFiles.Open(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite);
            // The rename is durable only once its directory is: an archive kept for six years must survive a power loss.
            DirectorySync.Flush(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new FlagsException("AuditArchiveWriteFailed", FlagsErrorKind.WriteError, $"The archive '{path}' could not be written ({ex.Message}); nothing was archived or recorded.", path);
        }

        var sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        return new AuditArchiveResult(path, before, events.Count, events[0].Sequence, events[^1].Sequence, events[^1].Hash, sha);
    }

    /// <summary>The audit event of an archive, recorded in the ledger the events were read from.</summary>
    public static AuditEvent ArchivedEvent(AuditArchiveResult result, TimeSpan retention, string user, string reason) => new()
    {
        EventType = ArchivedEventType,
        UserId = user,
        Reason = reason,
        Outcome = "archived",
        Details = new Newtonsoft.Json.Linq.JObject
        {
            ["path"] = result.Path,
            ["before"] = result.Before.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["retention_days"] = retention.TotalDays,
            ["count"] = result.Count,
            ["first_sequence"] = result.FirstSequence,
            ["last_sequence"] = result.LastSequence,
            ["head_hash"] = result.HeadHash,
            ["sha256"] = result.Sha256,
            ["deleted"] = 0,
        }.ToString(Newtonsoft.Json.Formatting.None),
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The failure being reported matters more; a leftover .partial file is harmless and named as such.
        }
    }
}
