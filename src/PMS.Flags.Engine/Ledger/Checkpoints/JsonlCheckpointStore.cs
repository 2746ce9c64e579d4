using System.Text;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>Checkpoints as JSON lines in a file of their own (by default <c>&lt;ledger&gt;.checkpoints.jsonl</c>), 0600, fsynced.</summary>
public sealed class JsonlCheckpointStore : ICheckpointStore
{
    public const string DefaultSuffix = ".checkpoints.jsonl";
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    public JsonlCheckpointStore(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    public string Name => $"Jsonl:{Path}";

    public bool Exists => File.Exists(Path) && new FileInfo(Path).Length > 0;

    public static string DefaultPathFor(string ledgerPath) => System.IO.Path.GetFullPath(ledgerPath) + DefaultSuffix;

    public IEnumerable<Checkpoint> ReadAll()
    {
        if (Directory.Exists(Path))
        {
            throw Malformed("it is a directory");
        }

        if (!File.Exists(Path))
        {
            yield break;
        }

        using var reader = new StreamReader(OpenRead(), Utf8NoBom);
        long lineNumber = 0;
        while (ReadLine(reader) is { } line)
        {
            lineNumber++;
            if (line.Length > 0)
            {
                yield return Checkpoint.Parse(line, Path, lineNumber);
            }
        }
    }

    /// <summary>The last line only, read from the tail: a ledger sealed after every change has as many checkpoints as events.</summary>
    public Checkpoint? ReadLast()
    {
        if (Directory.Exists(Path))
        {
            throw Malformed("it is a directory");
        }

        if (!File.Exists(Path))
        {
            return null;
        }

        using var stream = OpenRead();
        var length = stream.Length;
        if (length == 0)
        {
            return null;
        }

        var window = (int)Math.Min(length, 4096);
        while (true)
        {
            var buffer = new byte[window];
            stream.Seek(length - window, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            var end = buffer.Length;
            while (end > 0 && buffer[end - 1] is (byte)'\n' or (byte)'\r')
            {
                end--;
            }

            if (end == 0 && window == length)
            {
                return null;
            }

            var start = end == 0 ? -1 : Array.LastIndexOf(buffer, (byte)'\n', end - 1);
            if (start >= 0 || window == length)
            {
                return Checkpoint.Parse(Utf8NoBom.GetString(buffer, start + 1, end - start - 1), Path, -1);
            }

            window = (int)Math.Min(length, (long)window * 4);
        }
    }

    public void Append(Checkpoint checkpoint)
    {
        try
        {
            using var stream = PrivateFiles.Open(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            var originalLength = stream.Length;
            stream.Seek(0, SeekOrigin.End);
            try
            {
                stream.Write(Utf8NoBom.GetBytes(checkpoint.ToLine() + "\n"));
                stream.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // Never leave half a checkpoint: the next reader would call the whole file malformed.
                stream.SetLength(originalLength);
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The checkpoint file '{Path}' cannot be written ({ex.Message}).", Path, ex);
        }
    }

    /// <summary>
    /// Appends many checkpoints (a copy from another ledger) with one fsync per batch instead of one per checkpoint. A
    /// batch that fails is cut off again, so the file always ends in whole lines: the checkpoints before it stay, and
    /// a copy run again carries on after them. <paramref name="durable"/> hears of each batch once it is on disk, so a
    /// caller knows how far a failed copy got.
    /// </summary>
    public void AppendAll(IEnumerable<Checkpoint> checkpoints, Action<int> durable)
    {
        long appended = 0;
        try
        {
            using var stream = PrivateFiles.Open(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            foreach (var batch in checkpoints.Chunk(1000))
            {
                var before = stream.Seek(0, SeekOrigin.End);
                try
                {
                    stream.Write(Utf8NoBom.GetBytes(string.Concat(batch.Select(c => c.ToLine() + "\n"))));
                    stream.Flush(flushToDisk: true);
                }
                catch (IOException)
                {
                    stream.SetLength(before);
                    throw;
                }

                appended += batch.Length;
                durable(batch.Length);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The checkpoint file '{Path}' cannot be written after {appended} copied checkpoint(s) ({ex.Message}).", Path, ex);
        }
    }

    public override string ToString() => Name;

    private FileStream OpenRead()
    {
        try
        {
            return new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Malformed($"it cannot be read: {ex.Message}");
        }
    }

    private string? ReadLine(StreamReader reader)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Malformed($"it cannot be read: {ex.Message}");
        }
    }

    private FlagsException Malformed(string why)
        => new("CheckpointFileMalformed", FlagsErrorKind.InvalidData, $"The checkpoint file '{Path}' is not a checkpoint file ({why}).", Path);
}
