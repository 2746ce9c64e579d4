namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A batch of stored lines as UTF-8 bytes, back to back in one buffer. The verifier recycles a few of these between
/// the reading thread and the hashing threads, so a million-event scan allocates a handful of buffers, not a million
/// strings, and memory stays the same however long the ledger is.
/// </summary>
public sealed class Utf8LineBatch
{
    public Utf8LineBatch(int maxLines, int bufferBytes)
    {
        Starts = new int[maxLines];
        Lengths = new int[maxLines];
        Buffer = new byte[bufferBytes];
    }

    public byte[] Buffer { get; private set; }

    public int[] Starts { get; }

    public int[] Lengths { get; }

    public int Count { get; private set; }

    /// <summary>Bytes of <see cref="Buffer"/> in use.</summary>
    public int Used { get; private set; }

    public bool IsFull => Count == Starts.Length;

    public int Free => Buffer.Length - Used;

    public ReadOnlySpan<byte> Line(int index) => Buffer.AsSpan(Starts[index], Lengths[index]);

    public void Clear()
    {
        Count = 0;
        Used = 0;
    }

    /// <summary>Reserves room for the next line and returns where its bytes go; the buffer grows only for a line larger than it.</summary>
    public Memory<byte> Reserve(int length)
    {
        if (length > Free)
        {
            if (Count > 0)
            {
                throw new InvalidOperationException("The batch is full; start the next one.");
            }

            Buffer = new byte[length];
        }

        var start = Used;
        Starts[Count] = start;
        Lengths[Count] = length;
        Count++;
        Used += length;
        return Buffer.AsMemory(start, length);
    }
}
