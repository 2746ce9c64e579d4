using Microsoft.Win32.SafeHandles;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Reads one byte range of a scratch file through a handle shared with other readers (positional reads), so merging
/// a thousand sorted runs costs a thousand small buffers, not a thousand open files.
/// </summary>
internal sealed class AuditRunStream : Stream
{
    private readonly SafeFileHandle handle;
    private readonly long end;
    private long position;

    public AuditRunStream(SafeFileHandle handle, long start, long end)
    {
        this.handle = handle;
        position = start;
        this.end = end;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = (int)Math.Min(buffer.Length, end - position);
        if (wanted <= 0)
        {
            return 0;
        }

        var read = RandomAccess.Read(handle, buffer[..wanted], position);
        position += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
