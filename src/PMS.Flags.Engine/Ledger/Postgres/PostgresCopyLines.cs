using System.Buffers.Binary;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// Reads the output of <c>COPY (SELECT line ...) TO STDOUT (FORMAT binary)</c> into <see cref="Utf8LineBatch"/>es.
/// Binary COPY is one continuous byte stream with a length before each value: no per-row protocol message, no text
/// escaping to undo, and the bytes are exactly what the writer hashed, so nothing is decoded into strings.
/// </summary>
public sealed class PostgresCopyLines
{
    private static readonly byte[] Signature = { (byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', 0x0A, 0xFF, 0x0D, 0x0A, 0x00 };
    private readonly Stream stream;
    private readonly byte[] buffer = new byte[1 << 16];
    private int position;
    private int end;
    private bool headerRead;
    private bool finished;
    private int pendingLength = -1;

    public PostgresCopyLines(Stream stream) => this.stream = stream;

    /// <summary>Adds lines to <paramref name="batch"/> until it is full; false once the stream has no more lines.</summary>
    public bool Fill(Utf8LineBatch batch, CancellationToken cancellationToken)
    {
        if (!headerRead)
        {
            ReadHeader();
            headerRead = true;
        }

        while (!finished && !batch.IsFull)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = pendingLength >= 0 ? pendingLength : NextLength();
            if (length < 0)
            {
                finished = true;
                break;
            }

            if (length > batch.Free && batch.Count > 0)
            {
                // The line starts the next batch; its length is already consumed from the stream.
                pendingLength = length;
                return true;
            }

            pendingLength = -1;
            ReadInto(batch.Reserve(length).Span);
        }

        return !finished;
    }

    /// <summary>The next value's length, or -1 at the trailer. A NULL line is read as an empty one (which fails verification).</summary>
    private int NextLength()
    {
        var fields = BinaryPrimitives.ReadInt16BigEndian(Take(2));
        if (fields == -1)
        {
            return -1;
        }

        if (fields != 1)
        {
            throw new InvalidDataException($"COPY sent a row of {fields} fields where one was expected.");
        }

        return Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(Take(4)));
    }

    private void ReadHeader()
    {
        if (!Take(Signature.Length).SequenceEqual(Signature))
        {
            throw new InvalidDataException("COPY did not start with the binary signature.");
        }

        Take(4); // flags: no OIDs in the rows since PostgreSQL 12.
        var extension = BinaryPrimitives.ReadInt32BigEndian(Take(4));
        for (var skipped = 0; skipped < extension; skipped++)
        {
            Take(1);
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (end - position < count)
        {
            Refill(count);
        }

        var taken = buffer.AsSpan(position, count);
        position += count;
        return taken;
    }

    private void Refill(int atLeast)
    {
        var kept = end - position;
        Buffer.BlockCopy(buffer, position, buffer, 0, kept);
        position = 0;
        end = kept;
        while (end < atLeast)
        {
            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                throw new EndOfStreamException("The COPY stream ended in the middle of a row.");
            }

            end += read;
        }
    }

    private void ReadInto(Span<byte> destination)
    {
        var buffered = Math.Min(end - position, destination.Length);
        buffer.AsSpan(position, buffered).CopyTo(destination);
        position += buffered;
        if (buffered < destination.Length)
        {
            // Large remainders go straight from the socket into the batch, without a second copy.
            stream.ReadExactly(destination[buffered..]);
        }
    }
}
