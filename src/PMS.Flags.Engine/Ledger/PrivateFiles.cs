namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Audit files hold who changed what and why in a HIPAA system: the ledger, its lock, spool and checkpoint files are
/// created readable by their owner only (0600) and the folders the module creates for them 0700. Existing files and
/// folders keep the mode someone gave them on purpose.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static FileStream Open(string path, System.IO.FileMode mode, FileAccess access, FileShare share, int bufferSize = 4096, FileOptions fileOptions = FileOptions.None)
    {
        var creates = mode is System.IO.FileMode.Create or System.IO.FileMode.CreateNew or System.IO.FileMode.OpenOrCreate or System.IO.FileMode.Append;
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = fileOptions };
        if (!OperatingSystem.IsWindows() && creates && access.HasFlag(FileAccess.Write))
        {
            options.UnixCreateMode = FileMode;
        }

        return new FileStream(path, options);
    }

    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, FolderMode);
        }
    }
}
