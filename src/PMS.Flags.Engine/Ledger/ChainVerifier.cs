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

            var fast = AuditEventCodec.HashFromWriterBytes(line);
            var valid = storedHash is not null &&
                ((fast is { } f && f.ComputedHash == f.StoredHash && f.StoredHash == storedHash)
                 || AuditEventCodec.CanonicalHashOfLine(line) == storedHash);
            return new ChainLink(lineNumber, sequence, prevHash, storedHash, valid, null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidCastException or OverflowException)
        {
            return new ChainLink(lineNumber, null, null, null, false, ex.Message);
        }
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
