using System.Security.Cryptography;
using System.Text;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Holds audit events whose change already happened but whose ledger write failed, one file each, until the ledger
/// accepts them. Nothing is lost: a spooled event keeps its original timestamp and event_id and is chained when it is
/// flushed. Files are keyed by the ledger's stable identity, so any spelling of the ledger's path receives them.
/// Replay is idempotent by event_id and runs under the ledger's writer lock (one append of everything pending), so a
/// crash between append and delete, or two flushers at once, record each event once. A file that cannot be read or
/// removed is moved to <c>quarantine/</c> with a warning: it never blocks the events behind it.
/// </summary>
public sealed class AuditSpool
{
    public const string QuarantineFolder = "quarantine";

    // Orders events spooled by this process within one clock tick; file names sort by timestamp, then this counter.
    private static long spoolCounter;

    public AuditSpool(string directory) => Directory = System.IO.Path.GetFullPath(directory);

    public string Directory { get; }

    public string QuarantineDirectory => System.IO.Path.Combine(Directory, QuarantineFolder);

    public string Spool(ILedger ledger, AuditEvent draft)
    {
        PrivateFiles.CreateFolder(Directory);
        var name = $"{KeyOf(ledger.Identity)}-{draft.Timestamp.UtcTicks:D20}-{Interlocked.Increment(ref spoolCounter):D12}-{Guid.NewGuid():N}.json";
        var path = System.IO.Path.Combine(Directory, name);
        var temporary = path + ".tmp";
        using (var stream = PrivateFiles.Open(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(AuditEventCodec.ToJObject(draft, includeHash: false).ToString(Newtonsoft.Json.Formatting.None)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path);
        DirectorySync.Flush(Directory);
        return path;
    }

    /// <summary>Spooled entries for this ledger, oldest first (directories and other non-files included: they get quarantined).</summary>
    public IReadOnlyList<string> Pending(ILedger ledger)
    {
        try
        {
            // Files spooled before ledgers had an identity are keyed by the display name; they are replayed too.
            return System.IO.Directory.Exists(Directory)
                ? new[] { KeyOf(ledger.Identity), KeyOf(ledger.Name) }.Distinct()
                    .SelectMany(key => System.IO.Directory.GetFileSystemEntries(Directory, key + "-*.json"))
                    .OrderBy(p => System.IO.Path.GetFileName(p)[17..], StringComparer.Ordinal)
                    .ToArray()
                : Array.Empty<string>();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<string>();
        }
    }

    /// <summary>The events spooled for this ledger, read without changing anything (unreadable entries are left out).</summary>
    public IReadOnlyList<AuditEvent> Peek(ILedger ledger)
        => Pending(ledger).Select(p => TryRead(p, out var draft, out _) ? draft : null).Where(d => d is not null).Select(d => d!).ToArray();

    /// <summary>
    /// Appends every pending event for this ledger in one idempotent append and removes their files. Never throws for a
    /// spool problem; a ledger that still refuses leaves the files where they are and is reported in the result.
    /// </summary>
    public async Task<SpoolFlush> FlushAsync(ILedger ledger, IOperationLog log, CancellationToken cancellationToken)
    {
        var readable = new List<(string Path, AuditEvent Draft)>();
        var quarantined = 0;
        foreach (var path in Pending(ledger))
        {
            if (TryRead(path, out var draft, out var why))
            {
                readable.Add((path, draft!));
            }
            else
            {
                Quarantine(path, $"unreadable ({why})", log);
                quarantined++;
            }
        }

        if (readable.Count == 0)
        {
            return new SpoolFlush(0, quarantined, null);
        }

        IReadOnlyList<AuditEvent> stored;
        try
        {
            stored = await ledger.AppendAsync(readable.Select(r => r.Draft).ToArray(), null, skipKnownEventIds: true, cancellationToken).ConfigureAwait(false);
        }
        catch (LedgerException ex)
        {
            return new SpoolFlush(0, quarantined, ex);
        }

        foreach (var (path, draft) in readable)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Already in the ledger: a leftover would only be skipped by event_id, but move it out of the way.
                Quarantine(path, $"recorded but not removable ({ex.Message})", log);
            }
        }

        foreach (var e in stored)
        {
            log.Verbose($"Flushed spooled audit event {e.EventType} for '{e.FeatureFlag}' as #{e.Sequence}.");
        }

        return new SpoolFlush(readable.Count, quarantined, null) { Stored = stored };
    }

    private static bool TryRead(string path, out AuditEvent? draft, out string? why)
    {
        draft = null;
        why = null;
        try
        {
            // Never open anything but a regular, non-empty file: a FIFO would block the open until someone writes to it.
            var info = new FileInfo(path);
            if (!info.Exists || info.Attributes.HasFlag(FileAttributes.Directory) || info.LinkTarget is not null || info.Length == 0)
            {
                why = "not a regular spool file";
                return false;
            }

            draft = AuditEventCodec.ParseLine(File.ReadAllText(path));
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            why = ex.Message;
            return false;
        }
    }

    private void Quarantine(string path, string why, IOperationLog log)
    {
        var target = System.IO.Path.Combine(QuarantineDirectory, $"{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}");
        try
        {
            PrivateFiles.CreateFolder(QuarantineDirectory);
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Move(path, target);
            }
            else
            {
                File.Move(path, target);
            }

            // A move between folders changes both: each must be fsynced, or a power loss can lose the entry from both.
            DirectorySync.Flush(Directory);
            DirectorySync.Flush(QuarantineDirectory);
            log.Warning($"Spooled audit entry '{path}' is {why}; moved to '{target}' for manual recovery.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log.Warning($"Spooled audit entry '{path}' is {why} and could not be moved to quarantine ({ex.Message}); it is skipped.");
        }
    }

    private static string KeyOf(string ledgerIdentity)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ledgerIdentity)))[..16].ToLowerInvariant();
}
