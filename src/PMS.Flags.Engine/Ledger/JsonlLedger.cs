using System.Runtime.CompilerServices;
using System.Text;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A JSON-lines ledger: one canonical event a line. Appends take a cross-process lock, read the head from the file's
/// tail, write their whole lines in one write and fsync before returning, so concurrent writers interleave whole
/// appends and every reported success is on disk. A write that fails part-way (a full disk) is cut back to the last
/// complete line, so the module never leaves a torn tail of its own.
/// </summary>
public sealed class JsonlLedger : ILedger
{
    private const string EventIdMarker = "\"event_id\":\"";
    private static readonly UTF8Encoding Utf8NoBom = new(false);
    private readonly TimeSpan lockTimeout;
    private readonly Lazy<string> identity;

    public JsonlLedger(string path, TimeSpan? lockTimeout = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        this.lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
        identity = new Lazy<string>(() => "jsonl:" + CanonicalPath.Of(Path));
        Checkpoints = new JsonlCheckpointStore(JsonlCheckpointStore.DefaultPathFor(Path));
    }

    public string Path { get; }

    public string Name => $"Jsonl:{Path}";

    public string Identity => identity.Value;

    private string LockPath => Path + ".lock";

    /// <summary>Set by Connect-FlagLedger -SigningKeyPath: every append is sealed by a signed checkpoint under the writers' lock.</summary>
    public CheckpointSealer? Sealer { get; set; }

    /// <summary>The checkpoints that verification and sealing use (by default the file beside the ledger).</summary>
    public ICheckpointStore Checkpoints { get; set; } = null!;

    /// <summary>
    /// Set when the ledger was opened with -SkipVerification: the next appended event carries it in its details, so the
    /// trail itself says that someone chose to write on top of a ledger that was not verified.
    /// </summary>
    public string? SkippedVerification { get; set; }

    public Task EnsureWritableAsync(CancellationToken cancellationToken)
    {
        // Take the writers' lock instead of merely opening the lock file: on Unix a shared open of a file that another
        // writer holds exclusively fails with EWOULDBLOCK (FileShare maps to flock), so a probe would report the ledger
        // unwritable whenever someone else happened to be appending.
        using var fileLock = AcquireLock(cancellationToken);
        try
        {
            // An append needs a readable head too: a torn or foreign last line (LedgerTornTail, LedgerMalformed)
            // would only fail the append after the change had been made.
            using var stream = PrivateFiles.Open(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            ReadHead(stream);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw Unwritable(ex);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AuditEvent>> AppendAsync(IReadOnlyList<AuditEvent> drafts, LedgerExpectation? expectation, bool skipKnownEventIds, CancellationToken cancellationToken)
    {
        using var fileLock = AcquireLock(cancellationToken);
        FileStream stream;
        try
        {
            stream = PrivateFiles.Open(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(ex);
        }

        using (stream)
        {
            (long Sequence, string? Hash) head;
            Dictionary<string, AuditEvent> known;
            try
            {
                head = ReadHead(stream);
                if (expectation is not null && StreamMovedSince(stream, expectation, head.Sequence))
                {
                    throw new LedgerException(LedgerFailure.Conflict, "LedgerHeadMoved", FlagsErrorKind.InvalidOperation, $"Another writer appended to {expectation.Stream} after #{expectation.ReadAt}; re-read and decide again.", Name);
                }

                known = skipKnownEventIds ? FindEvents(drafts.Select(d => d.EventId).ToHashSet(StringComparer.Ordinal)) : new Dictionary<string, AuditEvent>();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(ex);
            }

            var results = new List<AuditEvent>(drafts.Count);
            var text = new StringBuilder();
            var (sequence, previousHash) = head;
            var skipNote = SkippedVerification;
            foreach (var original in drafts)
            {
                if (known.TryGetValue(original.EventId, out var stored))
                {
                    results.Add(stored);
                    continue;
                }

                var draft = original;
                if (skipNote is not null)
                {
                    draft = draft.WithDetail("verification_skipped", skipNote);
                    skipNote = null;
                }

                var chained = draft.WithChain(++sequence, previousHash, "");
                text.Append(AuditEventCodec.ToLine(chained, out var hash)).Append('\n');
                results.Add(chained.WithChain(sequence, previousHash, hash));
                previousHash = hash;
            }

            if (text.Length > 0)
            {
                WriteWhole(stream, Utf8NoBom.GetBytes(text.ToString()));
                SkippedVerification = skipNote;
                SealAfterAppend(sequence, previousHash!, stream.Length);
            }

            return Task.FromResult<IReadOnlyList<AuditEvent>>(results);
        }
    }

    public Task<long> GetHeadSequenceAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!File.Exists(Path) && !Directory.Exists(Path))
            {
                return Task.FromResult(0L);
            }

            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return Task.FromResult(ReadHead(stream).Sequence);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(ex);
        }
    }

    public async IAsyncEnumerable<AuditEvent> ReadAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        if (query.Newest is { } newest)
        {
            // A file is read oldest first: keep a window of the last Skip + N matches and hand out N of them newest first.
            var window = new Queue<AuditEvent>();
            var size = (long)newest + (query.Skip ?? 0);
            foreach (var auditEvent in Matching(query, cancellationToken))
            {
                if (window.Count == size)
                {
                    window.Dequeue();
                }

                window.Enqueue(auditEvent);
            }

            foreach (var auditEvent in window.Reverse().Skip(query.Skip ?? 0).Take(newest))
            {
                yield return auditEvent;
            }

            yield break;
        }

        var skipped = 0;
        var returned = 0;
        foreach (var auditEvent in Matching(query, cancellationToken))
        {
            if (skipped < query.Skip)
            {
                skipped++;
                continue;
            }

            yield return auditEvent;
            if (query.First is { } first && ++returned >= first)
            {
                yield break;
            }
        }
    }

    private IEnumerable<AuditEvent> Matching(AuditQuery query, CancellationToken cancellationToken)
    {
        var prefilter = LinePrefilter.For(query);
        using var lines = ReadLines(skipUnterminatedTail: true).GetEnumerator();
        while (NextLine(lines))
        {
            var line = lines.Current;
            cancellationToken.ThrowIfCancellationRequested();
            if (prefilter is not null && prefilter.CannotMatch(line))
            {
                continue;
            }

            var auditEvent = Parse(line);
            if (query.Matches(auditEvent))
            {
                yield return auditEvent;
            }
        }
    }

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken)
        => Task.FromResult(Verify(ChainScanOptions.FromStart, 0, cancellationToken));

    /// <summary>
    /// Verifies the lines from byte <paramref name="startOffset"/> (a checkpoint's ledger length, or 0) up to the end
    /// the file had when the writers' lock was taken: an append in flight is neither read half nor called a break.
    /// A last line without its newline is reported as torn_tail once everything before it holds.
    /// </summary>
    public ChainVerification Verify(ChainScanOptions options, long startOffset, CancellationToken cancellationToken)
    {
        try
        {
            if (Directory.Exists(Path))
            {
                throw new IOException($"'{Path}' is a directory");
            }

            if (!File.Exists(Path))
            {
                return ChainVerifier.Verify(Name, Array.Empty<string>(), options, cancellationToken);
            }

            var (complete, length) = SnapshotExtent(cancellationToken);
            var verdict = ChainVerifier.Verify(Name, ReadRange(Math.Min(startOffset, complete), complete), options, cancellationToken);
            if (verdict.Valid && length > complete)
            {
                var next = (verdict.HeadSequence ?? 0) + 1;
                return verdict.Broken(next, "torn_tail", $"The ledger ends in an incomplete line of {length - complete} byte(s) after #{next - 1} (an interrupted write); Repair-FlagLedger moves it to a quarantine file.");
            }

            return verdict;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(ex);
        }
    }

    /// <summary>The length up to the end of the last complete line, and the whole length, read under the writers' lock when it can be taken.</summary>
    public (long Complete, long Length) SnapshotExtent(CancellationToken cancellationToken)
    {
        ExclusiveFileLock? fileLock = null;
        try
        {
            fileLock = ExclusiveFileLock.Acquire(LockPath, lockTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only copy (an auditor's) cannot be locked; nobody appends to it either.
        }

        using (fileLock)
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return (CompleteLength(stream), stream.Length);
        }
    }

    /// <summary>Reads the line that ends exactly at byte <paramref name="end"/> (exclusive of nothing: end is just after its newline).</summary>
    public string? LineEndingAt(long end)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (end < 1 || end > stream.Length)
        {
            return null;
        }

        var window = (int)Math.Min(end, 8192);
        while (true)
        {
            var buffer = new byte[window];
            stream.Seek(end - window, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            if (buffer[^1] != (byte)'\n')
            {
                return null;
            }

            var start = buffer.Length < 2 ? -1 : Array.LastIndexOf(buffer, (byte)'\n', buffer.Length - 2);
            if (start >= 0 || window == end)
            {
                return Utf8NoBom.GetString(buffer, start + 1, buffer.Length - start - 2).TrimEnd('\r');
            }

            window = (int)Math.Min(end, (long)window * 4);
        }
    }

    /// <summary>Moves the bytes after the last complete line to <paramref name="quarantinePath"/> (fsynced first) and cuts them off, under the writers' lock.</summary>
    public (long Complete, byte[] Torn) CutTornTail(string quarantinePath, CancellationToken cancellationToken)
    {
        using var fileLock = AcquireLock(cancellationToken);
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var complete = CompleteLength(stream);
            var torn = new byte[stream.Length - complete];
            stream.Seek(complete, SeekOrigin.Begin);
            stream.ReadExactly(torn);
            if (torn.Length == 0)
            {
                return (complete, torn);
            }

            // The quarantine copy is durable before a single byte is cut: a crash in between leaves both, never neither.
            using (var quarantine = PrivateFiles.Open(quarantinePath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                quarantine.Write(torn);
                quarantine.Flush(flushToDisk: true);
            }

            DirectorySync.Flush(System.IO.Path.GetDirectoryName(quarantinePath)!);
            stream.SetLength(complete);
            stream.Flush(flushToDisk: true);
            return (complete, torn);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(ex);
        }
    }

    /// <summary>Seals the current head now (New-FlagAuditCheckpoint), under the writers' lock; null for an empty ledger.</summary>
    public Checkpoint? SealHead(CheckpointSealer sealer, CancellationToken cancellationToken)
    {
        using var fileLock = AcquireLock(cancellationToken);
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var head = ReadHead(stream);
            return head.Hash is null ? null : sealer.Seal(head.Sequence, head.Hash, stream.Length, DateTimeOffset.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(ex);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => Name;

    /// <summary>
    /// The events are durable whatever happens here: a checkpoint that cannot be written is a warning, never a failure
    /// of the append (which would spool events that are already in the ledger). The next seal covers this head too.
    /// </summary>
    private void SealAfterAppend(long sequence, string headHash, long ledgerLength)
    {
        if (Sealer is not { } sealer)
        {
            return;
        }

        try
        {
            sealer.Seal(sequence, headHash, ledgerLength, DateTimeOffset.UtcNow);
        }
        catch (FlagsException ex)
        {
            AmbientOperationLog.Instance.Warning($"Recorded #{sequence}, but could not seal it with a checkpoint: {ex.Message}");
        }
    }

    private static long CompleteLength(FileStream stream)
    {
        var length = stream.Length;
        long position = length;
        var buffer = new byte[8192];
        while (position > 0)
        {
            var size = (int)Math.Min(buffer.Length, position);
            position -= size;
            stream.Seek(position, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, size);
            var at = Array.LastIndexOf(buffer, (byte)'\n', size - 1);
            if (at >= 0)
            {
                return position + at + 1;
            }
        }

        return 0;
    }

    /// <summary>The non-empty lines between two byte offsets that both sit just after a newline (or at 0).</summary>
    private IEnumerable<string> ReadRange(long start, long end)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        stream.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[1 << 16];
        var filled = 0;
        var remaining = end - start;
        while (remaining > 0 || filled > 0)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = remaining > 0 ? stream.Read(buffer, filled, (int)Math.Min(buffer.Length - filled, remaining)) : 0;
            if (read == 0 && remaining > 0)
            {
                throw new IOException($"'{Path}' became shorter while it was being read");
            }

            remaining -= read;
            filled += read;
            var lineStart = 0;
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', lineStart, filled - lineStart);
                if (newline < 0)
                {
                    break;
                }

                var lineEnd = newline > lineStart && buffer[newline - 1] == (byte)'\r' ? newline - 1 : newline;
                if (lineEnd > lineStart)
                {
                    yield return Utf8NoBom.GetString(buffer, lineStart, lineEnd - lineStart);
                }

                lineStart = newline + 1;
            }

            Buffer.BlockCopy(buffer, lineStart, buffer, 0, filled - lineStart);
            filled -= lineStart;
            if (remaining == 0 && filled > 0)
            {
                // Both ends sit just after a newline, so nothing can be left over; guard against a file changed under us.
                throw new IOException($"'{Path}' changed while it was being read");
            }
        }
    }

    private ExclusiveFileLock AcquireLock(CancellationToken cancellationToken)
    {
        try
        {
            PrivateFiles.CreateFolder(System.IO.Path.GetDirectoryName(Path)!);
            return ExclusiveFileLock.Acquire(LockPath, lockTimeout, cancellationToken);
        }
        catch (FlagsException ex) when (ex is not LedgerException)
        {
            throw new LedgerException(LedgerFailure.Unavailable, ex.ErrorId, ex.Kind, ex.Message, Path, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw Unwritable(ex);
        }
    }

    /// <summary>All or nothing: a write that fails part-way is cut back to where the file ended, so no torn line is left.</summary>
    private void WriteWhole(FileStream stream, byte[] bytes)
    {
        var originalLength = stream.Length;
        try
        {
            stream.Seek(0, SeekOrigin.End);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                stream.SetLength(originalLength);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception truncateFailure) when (truncateFailure is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(new IOException($"{ex.Message}; cutting the partial write back also failed ({truncateFailure.Message}), run Test-FlagAuditChain", ex));
            }

            throw Unwritable(ex);
        }
    }

    private bool NextLine(IEnumerator<string> lines)
    {
        try
        {
            return lines.MoveNext();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(ex);
        }
    }

    private AuditEvent Parse(string line)
    {
        try
        {
            return AuditEventCodec.ParseLine(line);
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or FormatException or InvalidCastException or ArgumentException or OverflowException)
        {
            throw new LedgerException(LedgerFailure.Refused, "LedgerMalformed", FlagsErrorKind.InvalidData, $"The ledger '{Path}' has a line that is not an audit event ({ex.Message}); run Test-FlagAuditChain.", Path, ex);
        }
    }

    /// <summary>
    /// True when an event of the expected stream lies after its ReadAt. Only the events appended since are read, from
    /// the tail backwards, so unrelated writers on a long ledger cost as much as what they appended.
    /// </summary>
    private bool StreamMovedSince(FileStream stream, LedgerExpectation expectation, long headSequence)
    {
        if (headSequence == expectation.ReadAt)
        {
            return false;
        }

        if (headSequence < expectation.ReadAt)
        {
            // The ledger is shorter than when it was read: something is badly wrong; let the caller re-read.
            return true;
        }

        var length = stream.Length;
        var window = Math.Min(length, 1L << 16);
        while (true)
        {
            var buffer = new byte[window];
            stream.Seek(length - window, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            var lines = Utf8NoBom.GetString(buffer).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var complete = window == length ? lines : lines.Skip(1).ToArray();
            var firstSequence = complete.Length == 0 ? long.MaxValue : ChainVerifier.ReadLink(complete[0], 0).Sequence ?? long.MaxValue;
            if (window == length || firstSequence <= expectation.ReadAt)
            {
                return complete
                    .Where(l => (ChainVerifier.ReadLink(l, 0).Sequence ?? long.MaxValue) > expectation.ReadAt)
                    .Any(l => expectation.Stream.Contains(Parse(l)));
            }

            window = Math.Min(length, window * 4);
        }
    }

    private Dictionary<string, AuditEvent> FindEvents(HashSet<string> eventIds)
    {
        var found = new Dictionary<string, AuditEvent>(StringComparer.Ordinal);
        foreach (var line in ReadLines())
        {
            var at = line.IndexOf(EventIdMarker, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var start = at + EventIdMarker.Length;
            var end = line.IndexOf('"', start);
            if (end > start && eventIds.Contains(line[start..end]))
            {
                found[line[start..end]] = Parse(line);
            }
        }

        return found;
    }

    /// <param name="skipUnterminatedTail">
    /// Readers pass true: a last line without its newline is an append still being copied into the file (a reader can
    /// see part of a multi-page write), not an event yet, so it is left out instead of failing the read as malformed.
    /// Verification passes false, so a torn tail left by a crash is still reported.
    /// </param>
    private IEnumerable<string> ReadLines(bool skipUnterminatedTail = false)
    {
        if (!File.Exists(Path))
        {
            // Nothing written yet reads as empty; something else in the ledger's place is a failure, not an empty trail.
            if (Directory.Exists(Path))
            {
                throw new IOException($"'{Path}' is a directory");
            }

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
                throw new LedgerException(LedgerFailure.Refused, "LedgerTornTail", FlagsErrorKind.InvalidData, $"The ledger '{Path}' ends in an incomplete line (an interrupted write); run Test-FlagAuditChain and repair it before appending.", Path);
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
                    throw new LedgerException(LedgerFailure.Refused, "LedgerMalformed", FlagsErrorKind.InvalidData, $"The last line of the ledger '{Path}' is not an audit event; run Test-FlagAuditChain.", Path);
                }

                return (sequence, link.Hash.Value.ToString());
            }

            window = (int)Math.Min(length, (long)window * 4);
        }
    }

    private LedgerException Unwritable(Exception inner)
        => new(LedgerFailure.Unavailable, "LedgerUnwritable", FlagsErrorKind.WriteError, $"The audit ledger '{Path}' cannot be written ({inner.Message}).", Path, inner);

    private LedgerException Unreadable(Exception inner)
        => new(LedgerFailure.Unavailable, "LedgerUnreadable", FlagsErrorKind.ResourceUnavailable, $"The audit ledger '{Path}' cannot be read ({inner.Message}).", Path, inner);
}
