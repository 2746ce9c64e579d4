using Newtonsoft.Json;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Checks a sequence of stored lines: every line's hash must match its canonical content, sequences must run 1, 2, 3…
/// and each prev_hash must equal the hash before it. Hashing is independent per line, so it runs in parallel; the
/// link check that follows is a single cheap pass.
/// </summary>
public static class ChainVerifier
{
    private const int BatchSize = 8192;

    public static ChainVerification Verify(string ledgerName, IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        var links = new List<ChainLink>();
        var batch = new List<string>(BatchSize);
        long lineNumber = 0;
        foreach (var line in lines)
        {
            batch.Add(line);
            if (batch.Count == BatchSize)
            {
                links.AddRange(ReadBatch(batch, lineNumber, cancellationToken));
                lineNumber += batch.Count;
                batch.Clear();
            }
        }

        links.AddRange(ReadBatch(batch, lineNumber, cancellationToken));
        return Judge(ledgerName, links);
    }

    public static ChainLink ReadLink(string line, long lineNumber)
    {
        try
        {
            // Almost every line is exactly as the writer produced it: verify its bytes and read the two link fields
            // without a JSON parse. Anything else (reformatted, edited) takes the full parse below.
            if (AuditEventCodec.VerifiedHashFromWriterBytes(line) is { } verifiedHash && TryReadCanonicalLinks(line, out var canonicalSequence, out var canonicalPrevHash))
            {
                return new ChainLink(lineNumber, canonicalSequence, canonicalPrevHash, verifiedHash, true, null);
            }

            long? sequence = null;
            string? prevHash = null;
            string? storedHash = null;
            using (var reader = new JsonTextReader(new StringReader(line)) { DateParseHandling = DateParseHandling.None, FloatParseHandling = FloatParseHandling.Decimal })
            {
                if (!reader.Read() || reader.TokenType != JsonToken.StartObject)
                {
                    return new ChainLink(lineNumber, null, null, null, false, "not a JSON object");
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
            return new ChainLink(lineNumber, sequence, prevHash, storedHash, valid, null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidCastException or OverflowException)
        {
            return new ChainLink(lineNumber, null, null, null, false, ex.Message);
        }
    }

    /// <summary>
    /// In the canonical form keys are sorted, and every top-level key after "prev_hash" and "sequence" holds a scalar,
    /// so the LAST occurrence of each key is the top-level one (a string cannot contain an unescaped quote, and only
    /// "details", which sorts earlier, can nest objects with arbitrary keys).
    /// </summary>
    private static bool TryReadCanonicalLinks(string line, out long sequence, out string? prevHash)
    {
        sequence = 0;
        prevHash = null;
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

        prevHash = line.Substring(valueStart + 1, valueEnd - valueStart - 1);
        return true;
    }

    private static ChainLink[] ReadBatch(List<string> batch, long firstLine, CancellationToken cancellationToken)
    {
        var result = new ChainLink[batch.Count];
        Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => result[i] = ReadLink(batch[i], firstLine + i + 1));
        return result;
    }

    private static ChainVerification Judge(string ledgerName, List<ChainLink> links)
    {
        var laterSequences = new HashSet<long>(links.Where(l => l.Sequence is not null).Select(l => l.Sequence!.Value));
        var seen = new HashSet<long>();
        long expected = 1;
        string? previousHash = null;
        foreach (var link in links)
        {
            if (link.Sequence is not { } sequence)
            {
                return Broken(ledgerName, links.Count, expected, "modified", $"Line {link.Line} is not a readable audit event ({link.ParseError ?? "no sequence"}).");
            }

            if (sequence > expected)
            {
                return laterSequences.Contains(expected) && !seen.Contains(expected)
                    ? Broken(ledgerName, links.Count, expected, "reordered", $"Line {link.Line} holds event #{sequence} where #{expected} was expected; #{expected} appears later.")
                    : Broken(ledgerName, links.Count, expected, "deleted", $"Event #{expected} is missing: line {link.Line} holds #{sequence}.");
            }

            if (sequence < expected)
            {
                return seen.Contains(sequence)
                    ? Broken(ledgerName, links.Count, sequence, "inserted", $"Line {link.Line} repeats event #{sequence}: an event was inserted.")
                    : Broken(ledgerName, links.Count, sequence, "reordered", $"Line {link.Line} holds event #{sequence} after #{expected - 1}.");
            }

            if (!link.HashValid)
            {
                return Broken(ledgerName, links.Count, sequence, "modified", $"Event #{sequence} (line {link.Line}) does not match its hash: its content was changed.");
            }

            if (!string.Equals(link.PrevHash, previousHash, StringComparison.Ordinal))
            {
                return Broken(ledgerName, links.Count, sequence, "inserted", $"Event #{sequence} (line {link.Line}) does not chain to the event before it: an event was inserted or replaced.");
            }

            seen.Add(sequence);
            previousHash = link.Hash;
            expected++;
        }

        return new ChainVerification(ledgerName, true, links.Count, null, null, null, previousHash);
    }

    private static ChainVerification Broken(string ledgerName, long count, long sequence, string problem, string message)
        => new(ledgerName, false, count, sequence, problem, message, null);
}
