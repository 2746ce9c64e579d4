using System.Security.Cryptography;
using System.Text;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Holds audit events whose change already happened but whose ledger write failed, one file each, until the ledger
/// accepts them. Nothing is lost: a spooled event keeps its original timestamp and is chained when it is flushed.
/// </summary>
public sealed class AuditSpool
{
    // Orders events spooled by this process within one clock tick; file names sort by timestamp, then this counter.
    private static long spoolCounter;

    public AuditSpool(string directory) => Directory = System.IO.Path.GetFullPath(directory);

    public string Directory { get; }

    public string Spool(ILedger ledger, AuditEvent draft)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = $"{KeyOf(ledger)}-{draft.Timestamp.UtcTicks:D20}-{Interlocked.Increment(ref spoolCounter):D12}-{Guid.NewGuid():N}.json";
        var path = System.IO.Path.Combine(Directory, name);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(Encoding.UTF8.GetBytes(AuditEventCodec.ToJObject(draft, includeHash: false).ToString(Newtonsoft.Json.Formatting.None)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path);
        return path;
    }

    public IReadOnlyList<string> Pending(ILedger ledger)
        => System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, KeyOf(ledger) + "-*.json").OrderBy(p => p, StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();

    /// <summary>Appends every pending event for this ledger, oldest first; stops at the first failure and leaves the rest spooled.</summary>
    public async Task<int> FlushAsync(ILedger ledger, IOperationLog log, CancellationToken cancellationToken)
    {
        var flushed = 0;
        foreach (var path in Pending(ledger))
        {
            AuditEvent draft;
            try
            {
                draft = AuditEventCodec.ParseLine(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or FormatException or InvalidCastException)
            {
                // Keep the unreadable file for a human; it must neither block later events nor be silently dropped.
                File.Move(path, path + ".unreadable", overwrite: true);
                log.Warning($"Spooled audit file '{path}' is unreadable ({ex.Message}); kept as '{path}.unreadable' for manual recovery.");
                continue;
            }

            var stored = await ledger.AppendAsync(draft, null, cancellationToken).ConfigureAwait(false);
            File.Delete(path);
            flushed++;
            log.Verbose($"Flushed spooled audit event {draft.EventType} for '{draft.FeatureFlag}' as #{stored.Sequence}.");
        }

        return flushed;
    }

    private static string KeyOf(ILedger ledger)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ledger.Name)))[..16].ToLowerInvariant();
}
