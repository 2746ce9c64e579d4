using System.Runtime.InteropServices;

namespace PMS.Flags.Engine.Common;

/// <summary>
/// Makes a rename durable: on Unix a rename lives in its directory, which must itself be fsynced, or a power loss can
/// bring back the old name although the file's bytes were flushed.
/// </summary>
public static class DirectorySync
{
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    /// <summary>
    /// Raised with the directory before each flush: the seam through which tests check that a rename is followed by
    /// an fsync of its directory (what the filesystem shows at that moment is what a power loss would keep).
    /// </summary>
    internal static event Action<string>? Flushing;

    /// <summary>Fsyncs <paramref name="directory"/>; a failure is returned, not thrown: the data itself is already written.</summary>
    public static string? Flush(string directory)
    {
        Flushing?.Invoke(directory);
        if (OperatingSystem.IsWindows())
        {
            return null; // NTFS journals renames; there is no directory handle to flush.
        }

        var fd = open(directory, OperatingSystem.IsLinux() ? ReadOnlyDirectory : 0);
        if (fd < 0)
        {
            return $"open({directory}) failed with errno {Marshal.GetLastWin32Error()}";
        }

        try
        {
            return fsync(fd) == 0 ? null : $"fsync({directory}) failed with errno {Marshal.GetLastWin32Error()}";
        }
        finally
        {
            _ = close(fd);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
