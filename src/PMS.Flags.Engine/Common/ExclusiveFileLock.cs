using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace PMS.Flags.Engine.Common;

/// <summary>
/// A cross-process exclusive lock on a small lock file. On Linux and macOS .NET maps FileShare.None to flock(2),
/// which the kernel releases when the process dies, so a killed writer never leaves the lock behind.
/// The lock file is persistent on purpose: deleting it on release would let two waiters lock two different inodes.
/// </summary>
public sealed class ExclusiveFileLock : IDisposable
{
    private readonly FileStream stream;

    private ExclusiveFileLock(FileStream stream) => this.stream = stream;

    public static ExclusiveFileLock Acquire(string lockPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(lockPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var pipeline = new ResiliencePipelineBuilder<FileStream>()
            .AddTimeout(new TimeoutStrategyOptions { Timeout = timeout })
            .AddRetry(new RetryStrategyOptions<FileStream>
            {
                ShouldHandle = new PredicateBuilder<FileStream>().Handle<IOException>(IsContention),
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(5),
                MaxDelay = TimeSpan.FromMilliseconds(50),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();

        try
        {
            var stream = pipeline.Execute(
                static (state, _) => new FileStream(state, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None),
                lockPath,
                cancellationToken);
            return new ExclusiveFileLock(stream);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new FlagsException(
                "LockTimeout",
                FlagsErrorKind.OperationTimeout,
                $"Another writer held '{lockPath}' for longer than {timeout.TotalSeconds:0.#} s; nothing was changed.",
                lockPath,
                ex);
        }
    }

    public void Dispose() => stream.Dispose();

    // Only a held lock is worth waiting for: EWOULDBLOCK/EAGAIN on Unix, a sharing or lock violation on Windows.
    // Anything else (missing directory, read-only file system) is a real failure and surfaces at once.
    private static bool IsContention(IOException ex)
        => ex.GetType() == typeof(IOException) && (ex.HResult == 11 || (ex.HResult & 0xFFFF) is 32 or 33);
}
