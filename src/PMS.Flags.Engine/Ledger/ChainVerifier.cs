using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using Newtonsoft.Json;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Checks a sequence of stored lines: every line's hash must match its canonical content, sequences must run 1, 2, 3…
/// and each prev_hash must equal the hash before it. Hashing is independent per line, so it runs in parallel; the
/// link check that follows is a single cheap pass.
/// </summary>
public static class ChainVerifier
{
    // Small enough that a batch of lines dies young (gen0), large enough to keep both cores busy.
    private const int BatchSize = 2048;

    // The byte pipeline: batches large enough that handing one over costs nothing next to hashing it, and few enough
    // (one being read, one being hashed, one waiting) that memory stays a few megabytes at any ledger length.
    private const int Utf8BatchLines = 4096;
    private const int Utf8BatchBytes = 4 << 20;
    private const int Utf8Batches = 3;

    private static readonly byte[] SequenceKey = ",\"sequence\":"u8.ToArray();
    private static readonly byte[] PrevHashKey = ",\"prev_hash\":"u8.ToArray();

    public static ChainVerification Verify(string ledgerName, IEnumerable<string> lines, CancellationToken cancellationToken)
        => Verify(ledgerName, lines, ChainScanOptions.FromStart, cancellationToken);

    /// <summary>
    /// Streams the lines in batches, so memory stays constant however long the ledger is: only the judge's running state
    /// (the expected sequence, the previous hash) survives a batch.
    /// </summary>
    public static ChainVerification Verify(string ledgerName, IEnumerable<string> lines, ChainScanOptions options, CancellationToken cancellationToken)
    {
        var judge = new ChainJudge(ledgerName, options);
        var batch = new List<string>(BatchSize);
        long lineNumber = 0;
        foreach (var line in lines)
        {
            batch.Add(line);
            if (batch.Count == BatchSize)
            {
                judge.Accept(ReadBatch(batch, lineNumber, cancellationToken));
                lineNumber += batch.Count;
                batch.Clear();
            }
        }

        judge.Accept(ReadBatch(batch, lineNumber, cancellationToken));
        return judge.Verdict();
    }

    /// <summary>
    /// Verifies lines that arrive as UTF-8 bytes (a database's COPY stream). <paramref name="fill"/> runs on its own
    /// thread and adds lines to the batch it is given, returning false after the last one; hashing a batch overlaps
    /// reading the next, so the scan costs about the slower of the two, not their sum. Whatever <paramref name="fill"/>
    /// throws is rethrown here unchanged, so the caller maps a lost connection as it would any other.
    /// </summary>
    public static ChainVerification VerifyUtf8(string ledgerName, Func<Utf8LineBatch, CancellationToken, bool> fill, ChainScanOptions options, CancellationToken cancellationToken)
    {
        var judge = new ChainJudge(ledgerName, options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var free = new BlockingCollection<Utf8LineBatch>(Utf8Batches);
        using var full = new BlockingCollection<Utf8LineBatch>(Utf8Batches);
        for (var i = 0; i < Utf8Batches; i++)
        {
            free.Add(new Utf8LineBatch(Utf8BatchLines, Utf8BatchBytes));
        }

        ExceptionDispatchInfo? readFailure = null;
        var reader = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    var more = true;
                    while (more)
                    {
                        var batch = free.Take(stop.Token);
                        batch.Clear();
                        more = fill(batch, stop.Token);
                        full.Add(batch, stop.Token);
                    }
                }
                catch (Exception ex)
                {
                    readFailure = ExceptionDispatchInfo.Capture(ex);
                }
                finally
                {
                    full.CompleteAdding();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        var links = new ChainLink[Utf8BatchLines];
        long lineNumber = 0;
        try
        {
            foreach (var batch in full.GetConsumingEnumerable(cancellationToken))
            {
                ReadBatch(batch, links, lineNumber, cancellationToken);
                judge.Accept(new ArraySegment<ChainLink>(links, 0, batch.Count));
                lineNumber += batch.Count;
                free.Add(batch, cancellationToken);
            }
        }
        finally
        {
            stop.Cancel();
            reader.Wait(CancellationToken.None);
        }

        // The loop ended because the reader stopped adding: on its own failure, or after the last line.
        readFailure?.Throw();

        return judge.Verdict();
    }

    /// <summary>
    /// The link of one UTF-8 line. A line exactly as the writer produced it is hashed from its bytes as they are;
    /// anything else is decoded and parsed, so verdicts never depend on whether the line came as bytes or as text.
    /// </summary>
    public static ChainLink ReadLink(ReadOnlySpan<byte> line, long lineNumber)
        => TryReadWriterLink(line, lineNumber, out var link) ? link : ParseLink(Encoding.UTF8.GetString(line), lineNumber);

    public static ChainLink ReadLink(string line, long lineNumber)
        => TryReadWriterLink(AuditEventCodec.Utf8Scratch(line), lineNumber, out var link) ? link : ParseLink(line, lineNumber);

    /// <summary>
    /// Almost every line is exactly as the writer produced it: its bytes are verified and the two link fields read
    /// without a JSON parse. Anything else (reformatted, edited) takes the full parse.
    /// </summary>
    private static bool TryReadWriterLink(ReadOnlySpan<byte> line, long lineNumber, out ChainLink link)
    {
        if (AuditEventCodec.TryVerifyWriterBytes(line, out var verifiedHash) && TryReadCanonicalLinks(line, out var sequence, out var prevHash, out var prevReadable))
        {
            link = new ChainLink(lineNumber, sequence, prevHash, prevReadable, verifiedHash, true, null);
            return true;
        }

        link = default;
        return false;
    }

    private static ChainLink ParseLink(string line, long lineNumber)
    {
        try
        {
            long? sequence = null;
            string? prevHash = null;
            string? storedHash = null;
            using (var reader = new JsonTextReader(new StringReader(line)) { DateParseHandling = DateParseHandling.None, FloatParseHandling = FloatParseHandling.Decimal })
            {
                if (!reader.Read() || reader.TokenType != JsonToken.StartObject)
                {
                    return new ChainLink(lineNumber, null, null, true, null, false, "not a JSON object");
                }

                while (reader.Read() && reader.TokenType == JsonToken.PropertyName)
                {
                    var name = (string)reader.Value!;
                    reader.Read();
                    switch (name)
                    {
                        case "sequence" when reader.TokenType == JsonToken.Integer:
                            sequence = Convert.ToInt64(reader.Value);
                            break;
                        case "prev_hash":
                            prevHash = reader.Value as string;
                            break;
                        case AuditEventCodec.HashField:
                            storedHash = reader.Value as string;
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }
            }

            var valid = storedHash is not null && AuditEventCodec.CanonicalHashOfLine(line) == storedHash;
            Sha256Value? hash = storedHash is not null && Sha256Value.TryParse(storedHash, out var parsedHash) ? parsedHash : null;
            Sha256Value? previous = prevHash is not null && Sha256Value.TryParse(prevHash, out var parsedPrevious) ? parsedPrevious : null;
            return new ChainLink(lineNumber, sequence, previous, prevHash is null || previous is not null, hash, valid && hash is not null, null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidCastException or OverflowException)
        {
            return new ChainLink(lineNumber, null, null, true, null, false, ex.Message);
        }
    }

    /// <summary>
    /// In the canonical form keys are sorted, and every top-level key after "prev_hash" and "sequence" holds a scalar,
    /// so the LAST occurrence of each key is the top-level one (a string cannot contain an unescaped quote, and only
    /// "details", which sorts earlier, can nest objects with arbitrary keys).
    /// </summary>
    private static bool TryReadCanonicalLinks(ReadOnlySpan<byte> line, out long sequence, out Sha256Value? prevHash, out bool prevHashReadable)
    {
        sequence = 0;
        prevHash = null;
        prevHashReadable = true;
        var sequenceAt = line.LastIndexOf(SequenceKey);
        var prevHashAt = line.LastIndexOf(PrevHashKey);
        if (sequenceAt < 0 || prevHashAt < 0)
        {
            return false;
        }

        var numberStart = sequenceAt + SequenceKey.Length;
        var numberEnd = numberStart;
        while (numberEnd < line.Length && char.IsAsciiDigit((char)line[numberEnd]))
        {
            numberEnd++;
        }

        if (numberEnd == numberStart || !long.TryParse(line[numberStart..numberEnd], NumberStyles.None, CultureInfo.InvariantCulture, out sequence))
        {
            return false;
        }

        var value = line[(prevHashAt + PrevHashKey.Length)..];
        if (value.StartsWith("null"u8))
        {
            return true;
        }

        if (value.IsEmpty || value[0] != (byte)'"')
        {
            return false;
        }

        var valueEnd = value[1..].IndexOf((byte)'"');
        if (valueEnd < 0)
        {
            return false;
        }

        prevHashReadable = Sha256Value.TryParseUtf8(value.Slice(1, valueEnd), out var parsed);
        prevHash = prevHashReadable ? parsed : null;
        return true;
    }

    private static void ReadBatch(Utf8LineBatch batch, ChainLink[] links, long firstLine, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        Parallel.ForEach(
            Partitioner.Create(0, batch.Count, 256),
            new ParallelOptions { CancellationToken = cancellationToken },
            range =>
            {
                for (var i = range.Item1; i < range.Item2; i++)
                {
                    links[i] = ReadLink(batch.Line(i), firstLine + i + 1);
                }
            });
    }

    private static ChainLink[] ReadBatch(List<string> batch, long firstLine, CancellationToken cancellationToken)
    {
        var result = new ChainLink[batch.Count];
        if (batch.Count == 0)
        {
            return result;
        }

        // Ranges rather than single lines per work item: a line takes about a microsecond, less than scheduling one.
        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, batch.Count, 256),
            new ParallelOptions { CancellationToken = cancellationToken },
            range =>
            {
                for (var i = range.Item1; i < range.Item2; i++)
                {
                    result[i] = ReadLink(batch[i], firstLine + i + 1);
                }
            });
        return result;
    }
}
