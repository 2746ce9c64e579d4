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

    public static ChainLink ReadLink(string line, long lineNumber)
    {
        try
        {
            // Almost every line is exactly as the writer produced it: verify its bytes and read the two link fields
            // without a JSON parse. Anything else (reformatted, edited) takes the full parse below.
            if (AuditEventCodec.TryVerifyWriterBytes(line, out var verifiedHash) && TryReadCanonicalLinks(line, out var canonicalSequence, out var canonicalPrevHash, out var canonicalPrevReadable))
            {
                return new ChainLink(lineNumber, canonicalSequence, canonicalPrevHash, canonicalPrevReadable, verifiedHash, true, null);
            }

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
    private static bool TryReadCanonicalLinks(string line, out long sequence, out Sha256Value? prevHash, out bool prevHashReadable)
    {
        sequence = 0;
        prevHash = null;
        prevHashReadable = true;
        const string sequenceKey = ",\"sequence\":";
        const string prevHashKey = ",\"prev_hash\":";
        var sequenceAt = line.LastIndexOf(sequenceKey, StringComparison.Ordinal);
        var prevHashAt = line.LastIndexOf(prevHashKey, StringComparison.Ordinal);
        if (sequenceAt < 0 || prevHashAt < 0)
        {
            return false;
        }

        var numberStart = sequenceAt + sequenceKey.Length;
        var numberEnd = numberStart;
        while (numberEnd < line.Length && char.IsAsciiDigit(line[numberEnd]))
        {
            numberEnd++;
        }

        if (numberEnd == numberStart || !long.TryParse(line.AsSpan(numberStart, numberEnd - numberStart), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence))
        {
            return false;
        }

        var valueStart = prevHashAt + prevHashKey.Length;
        if (string.CompareOrdinal(line, valueStart, "null", 0, 4) == 0)
        {
            return true;
        }

        if (line[valueStart] != '"')
        {
            return false;
        }

        var valueEnd = line.IndexOf('"', valueStart + 1);
        if (valueEnd < 0)
        {
            return false;
        }

        prevHashReadable = Sha256Value.TryParse(line.AsSpan(valueStart + 1, valueEnd - valueStart - 1), out var parsed);
        prevHash = prevHashReadable ? parsed : null;
        return true;
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
