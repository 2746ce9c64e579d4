namespace PMS.Flags.Engine.Common;

/// <summary>
/// One spelling for one file: absolute, with <c>.</c>/<c>..</c> removed and every symbolic link along the existing part
/// of the path resolved, so two spellings of the same file (a relative path, a symlinked checkout) compare equal.
/// </summary>
public static class CanonicalPath
{
    public static string Of(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var resolved = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(resolved, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            try
            {
                if (info.Exists && info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                {
                    next = Path.GetFullPath(target.FullName);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An unreadable link stays as spelled: the identity is then merely less canonical, never wrong.
            }

            resolved = next;
        }

        return resolved;
    }

    /// <summary>
    /// The root of the git work tree holding <paramref name="canonicalPath"/> (the nearest directory with a <c>.git</c>
    /// directory or file), or null outside one.
    /// </summary>
    public static string? RepositoryRoot(string canonicalPath)
    {
        for (var directory = Path.GetDirectoryName(canonicalPath); !string.IsNullOrEmpty(directory); directory = Path.GetDirectoryName(directory))
        {
            var git = Path.Combine(directory, ".git");
            if (Directory.Exists(git) || File.Exists(git))
            {
                return directory;
            }
        }

        return null;
    }
}
