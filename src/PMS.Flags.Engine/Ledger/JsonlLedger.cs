using System.Text;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A JSON-lines ledger: one canonical event a line. Appends take a cross-process lock, read the head from the file's
/// tail, write one whole line and fsync before returning, so concurrent writers interleave whole events and every
/// reported success is on disk.
/// </summary>
public sealed class JsonlLedger : ILedger
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);
    private readonly TimeSpan lockTimeout;

    public JsonlLedger(string path, TimeSpan? lockTimeout = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        this.lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
    }

    public string Path { get; }

    public string Name => $"Jsonl:{Path}";

    private string LockPath => Path + ".lock";

    public void EnsureWritable()
    {
        // Take the writers' lock instead of merely opening the lock file: on Unix a shared open of a file that another
        // writer holds exclusively fails with EWOULDBLOCK (FileShare maps to flock), so a probe would report the ledger
        // unwritable whenever someone else happened to be appending.
        ExclusiveFileLock fileLock;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            fileLock = ExclusiveFileLock.Acquire(LockPath, lockTimeout, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw Unwritable(ex);
        }

        using (fileLock)
        {
            try
            {
                // An append needs a readable head too: a torn or foreign last line (LedgerTornTail, LedgerMalformed)
                // would only fail the append after the change had been made.
                using var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                ReadHead(stream);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                throw Unwritable(ex);
            }
        }
    }

    public Task<AuditEvent> AppendAsync(AuditEvent draft, long? expectedHeadSequence, CancellationToken cancellationToken)
    {
        ExclusiveFileLock fileLock;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            fileLock = ExclusiveFileLock.Acquire(LockPath, lockTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(ex);
        }

        using (fileLock)
        {
            try
            {
                using var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                var head = ReadHead(stream);
                if (expectedHeadSequence is { } expected && expected != head.Sequence)
                {
                    throw new FlagsException("LedgerHeadMoved", FlagsErrorKind.InvalidOperation, $"Another writer appended to the ledger (head is #{head.Sequence}, expected #{expected}); re-read and decide again.", Name);
                }

                var chained = draft.WithChain(head.Sequence + 1, head.Hash, "");
                var line = AuditEventCodec.ToLine(chained, out var hash);
                stream.Seek(0, SeekOrigin.End);
                stream.Write(Utf8NoBom.GetBytes(line + "\n"));
                stream.Flush(flushToDisk: true);
                return Task.FromResult(chained.WithChain(chained.Sequence, head.Hash, hash));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(ex);
            }
        }
    }

    public Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return Task.FromResult(0L);
        }

        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Task.FromResult(ReadHead(stream).Sequence);
    }

    public IEnumerable<AuditEvent> Read(AuditQuery query, CancellationToken cancellationToken)
    {
        var returned = 0;
        var prefilter = LinePrefilter.For(query);
        foreach (var line in ReadLines(skipUnterminatedTail: true))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (prefilter is not null && prefilter.CannotMatch(line))
            {
                continue;
            }

            AuditEvent auditEvent;
            try
            {
                auditEvent = AuditEventCodec.ParseLine(line);
            }
            catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or FormatException or InvalidCastException)
            {
                throw new FlagsException("LedgerMalformed", FlagsErrorKind.InvalidData, $"The ledger '{Path}' has a line that is not an audit event ({ex.Message}); run Test-FlagAuditChain.", Path, ex);
            }

            if (!query.Matches(auditEvent))
            {
                continue;
            }

            yield return auditEvent;
            if (query.First is { } first && ++returned >= first)
            {
                yield break;
            }
        }
    }

    public ChainVerification Verify(CancellationToken cancellationToken) => ChainVerifier.Verify(Name, ReadLines(), cancellationToken);

    public override string ToString() => Name;

    /// <param name="skipUnterminatedTail">
    /// Readers pass true: a last line without its newline is an append still being copied into the file (a reader can
    /// see part of a multi-page write), not an event yet, so it is left out instead of failing the read as malformed.
    /// Verification passes false, so a torn tail left by a crash is still reported.
    /// </param>
    private IEnumerable<string> ReadLines(bool skipUnterminatedTail = false)
    {
        if (!File.Exists(Path))
        {
            yield break;
        }

        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        using var reader = new StreamReader(stream, Utf8NoBom);
        while (reader.ReadLine() is { } line)
        {
            if (skipUnterminatedTail && reader.Peek() < 0 && !EndsWithNewline(stream))
            {
                yield break;
            }

            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }

    // At end of stream every byte read so far has been consumed; the last of them tells whether the last line was whole.
    private static bool EndsWithNewline(FileStream stream)
    {
        var consumed = stream.Position;
        if (consumed == 0)
        {
            return true;
        }

        Span<byte> last = stackalloc byte[1];
        return RandomAccess.Read(stream.SafeFileHandle, last, consumed - 1) == 1 && last[0] == (byte)'\n';
    }

    private (long Sequence, string? Hash) ReadHead(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return (0, null);
        }

        // Read backwards in growing windows until the last complete line is inside the window.
        var window = (int)Math.Min(length, 8192);
        while (true)
        {
            var buffer = new byte[window];
            stream.Seek(length - window, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            if (buffer[^1] != (byte)'\n')
            {
                throw new FlagsException("LedgerTornTail", FlagsErrorKind.InvalidData, $"The ledger '{Path}' ends in an incomplete line (an interrupted write); run Test-FlagAuditChain and repair it before appending.", Path);
            }

            // Blank lines are skipped, as ReadLines (and so Verify) skips them: the head is the last non-empty line.
            var end = buffer.Length - 1;
            while (end > 0 && buffer[end - 1] == (byte)'\n')
            {
                end--;
            }

            var start = end == 0 ? -1 : Array.LastIndexOf(buffer, (byte)'\n', end - 1);
            if (start >= 0 || window == length)
            {
                if (end == 0)
                {
                    return (0, null);
                }

                var lineText = Utf8NoBom.GetString(buffer, start + 1, end - start - 1);
                var link = ChainVerifier.ReadLink(lineText, 0);
                if (link.Sequence is not { } sequence || link.Hash is null)
                {
                    throw new FlagsException("LedgerMalformed", FlagsErrorKind.InvalidData, $"The last line of the ledger '{Path}' is not an audit event; run Test-FlagAuditChain.", Path);
                }

                return (sequence, link.Hash.Value.ToString());
            }

            window = (int)Math.Min(length, (long)window * 4);
        }
    }

    private FlagsException Unwritable(Exception inner)
        => new("LedgerUnwritable", FlagsErrorKind.WriteError, $"The audit ledger '{Path}' cannot be written ({inner.Message}).", Path, inner);
}
