using System.Text;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The report's timeline points of every flag and environment, sorted by time without holding them: points are
/// buffered up to a fixed total, each stream's buffer is sorted and written to a scratch file as a run, and a stream
/// is read back by merging its runs. Memory is bounded by the buffer and one small reader per run, whatever the trail's length.
/// </summary>
internal sealed class AuditTimelinePoints : IDisposable
{
    private const int BufferedPoints = 16_384;

    private readonly string path;
    private readonly Dictionary<(string Flag, string Environment), Timeline> streams = new();
    private FileStream? file;
    private BinaryWriter? writer;
    private int buffered;

    public AuditTimelinePoints(string path) => this.path = path;

    /// <summary>The streams in the report's order: by flag, then environment (ordinal).</summary>
    public IEnumerable<(string Flag, string Environment, long Count, long FirstTicks, long LastTicks)> Streams
        => streams.OrderBy(s => s.Key.Flag, StringComparer.Ordinal).ThenBy(s => s.Key.Environment, StringComparer.Ordinal)
            .Select(s => (s.Key.Flag, s.Key.Environment, s.Value.Count, s.Value.FirstTicks, s.Value.LastTicks));

    /// <summary>Registers the stream (a flag with only evaluations still gets its empty timeline) and, if plotted, the point.</summary>
    public void Add(string flag, string environment, AuditTimelinePoint? point)
    {
        if (!streams.TryGetValue((flag, environment), out var stream))
        {
            stream = new Timeline();
            streams.Add((flag, environment), stream);
        }

        if (point is not { } p)
        {
            return;
        }

        stream.FirstTicks = stream.Count == 0 ? p.Ticks : Math.Min(stream.FirstTicks, p.Ticks);
        stream.LastTicks = stream.Count == 0 ? p.Ticks : Math.Max(stream.LastTicks, p.Ticks);
        stream.Count++;
        stream.Buffer.Add(p);
        if (++buffered >= BufferedPoints)
        {
            foreach (var s in streams.Values)
            {
                Spill(s);
            }

            buffered = 0;
        }
    }

    /// <summary>One stream's points in time order; each call reads them again.</summary>
    public IEnumerable<AuditTimelinePoint> Sorted(string flag, string environment)
    {
        var stream = streams[(flag, environment)];
        if (stream.Runs.Count == 0)
        {
            stream.Buffer.Sort((a, b) => AuditTimelinePoint.Compare(a, b));
            foreach (var point in stream.Buffer)
            {
                yield return point;
            }

            yield break;
        }

        Spill(stream);
        writer!.Flush();
        var readers = stream.Runs.Select(r => (Reader: new BinaryReader(new BufferedStream(new AuditRunStream(file!.SafeFileHandle, r.Start, r.End), 4096), Encoding.UTF8), Left: r.Count)).ToArray();
        try
        {
            var queue = new PriorityQueue<int, AuditTimelinePoint>(Comparer<AuditTimelinePoint>.Create((a, b) => AuditTimelinePoint.Compare(a, b)));
            var current = new AuditTimelinePoint[readers.Length];
            for (var i = 0; i < readers.Length; i++)
            {
                Next(i);
            }

            while (queue.TryDequeue(out var i, out var point))
            {
                yield return point;
                Next(i);
            }

            void Next(int i)
            {
                if (readers[i].Left-- > 0)
                {
                    current[i] = AuditTimelinePoint.ReadFrom(readers[i].Reader);
                    queue.Enqueue(i, current[i]);
                }
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Reader.Dispose();
            }
        }
    }

    public void Dispose()
    {
        writer?.Dispose();
        writer = null;
        file = null;
        File.Delete(path);
    }

    private void Spill(Timeline stream)
    {
        if (stream.Buffer.Count == 0)
        {
            return;
        }

        if (writer is null)
        {
            file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            writer = new BinaryWriter(file, Encoding.UTF8);
        }

        stream.Buffer.Sort((a, b) => AuditTimelinePoint.Compare(a, b));
        var start = file!.Position;
        foreach (var point in stream.Buffer)
        {
            point.WriteTo(writer);
        }

        writer.Flush();
        stream.Runs.Add((start, file.Position, stream.Buffer.Count));
        stream.Buffer.Clear();
    }

    private sealed class Timeline
    {
        public List<AuditTimelinePoint> Buffer { get; } = new();

        public List<(long Start, long End, int Count)> Runs { get; } = new();

        public long Count { get; set; }

        public long FirstTicks { get; set; }

        public long LastTicks { get; set; }
    }
}
