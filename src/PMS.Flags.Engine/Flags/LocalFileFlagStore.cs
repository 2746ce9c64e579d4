using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Flags in <c>feature_flags.json</c>: <c>{ "environment": { "flag": value } }</c>, read and edited by
/// <see cref="FlagDocumentEditor"/>. A write splices one value into the original text under a cross-process lock,
/// writes a temporary file beside it, flushes it and renames it over the original, so readers see either the old or the new document and a concurrent writer never loses an update.
/// </summary>
public sealed class LocalFileFlagStore : IFlagStore
{
    private readonly TimeSpan lockTimeout;
    private readonly Lazy<string> identity;

    public LocalFileFlagStore(string path, string? defaultEnvironment = null, IEnumerable<string>? protectedEnvironments = null, TimeSpan? lockTimeout = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        DefaultEnvironment = defaultEnvironment;
        ProtectedEnvironments = (protectedEnvironments ?? new[] { "production" }).ToArray();
        this.lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
        identity = new Lazy<string>(() => IdentityOf(Path));
    }

    public string Kind => "LocalFile";

    public string Name => $"LocalFile:{Path}";

    /// <summary>
    /// <c>localfile:</c> and the document's path relative to its git repository's root (so two clones of one repository,
    /// on two agents, are the same store), or its canonical path outside a repository.
    /// </summary>
    public string Identity => identity.Value;

    public string Path { get; }

    public string? DefaultEnvironment { get; }

    public IReadOnlyCollection<string> ProtectedEnvironments { get; }

    private string LockPath => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "." + System.IO.Path.GetFileName(Path) + ".lock");

    public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken)
        => Task.FromResult(ReadDocument().ReadEnvironments());

    public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
    {
        var values = ReadDocument().ReadFlags(environment, flag);
        var lastModified = new DateTimeOffset(File.GetLastWriteTimeUtc(Path), TimeSpan.Zero);
        IReadOnlyList<FlagState> states = values.Select(v => ToState(v, lastModified)).ToArray();
        return Task.FromResult(states);
    }

    public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken)
        => Task.FromResult(ToResult(ReadDocument().Edit(change)));

    public Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken)
    {
        using var fileLock = ExclusiveFileLock.Acquire(LockPath, lockTimeout, cancellationToken);
        var edit = ReadDocument().Edit(change);
        var result = ToResult(edit);
        if (edit.Changed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteAtomically(edit.NewText);
        }

        return Task.FromResult(result);
    }

    public override string ToString() => Name;

    private FlagChangeResult ToResult(FlagDocumentEdit edit)
    {
        var previous = ToState(edit.Before, new DateTimeOffset(File.GetLastWriteTimeUtc(Path), TimeSpan.Zero));
        var current = ToState(edit.After, DateTimeOffset.UtcNow);
        return new FlagChangeResult(previous, current, edit.Changed);
    }

    private FlagDocumentEditor ReadDocument()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FlagsException("FlagDocumentNotFound", FlagsErrorKind.ObjectNotFound, $"The flag document '{Path}' does not exist.", Path, ex);
        }

        return FlagDocumentEditor.FromBytes(bytes, Path);
    }

    private void WriteAtomically(string newText)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = FlagDocumentEditor.ToBytes(newText);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(Path));
            }

            File.Move(temporary, Path, overwrite: true);

            // The rename lives in the directory: without this fsync a power loss can bring the old document back.
            DirectorySync.Flush(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new FlagsException("FlagDocumentUnwritable", FlagsErrorKind.WriteError, $"Could not write '{Path}': {ex.Message}. The document is unchanged.", Path, ex);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string IdentityOf(string path)
    {
        var canonical = CanonicalPath.Of(path);
        var root = CanonicalPath.RepositoryRoot(canonical);
        var shown = root is null ? canonical : System.IO.Path.GetRelativePath(root, canonical);
        return "localfile:" + shown.Replace(System.IO.Path.DirectorySeparatorChar, '/');
    }

    private FlagState ToState(FlagDocumentValue value, DateTimeOffset lastModified)
        => new(value.Flag, value.Environment, value.On, value.Percentage, Name, lastModified: lastModified, servedBy: "document");
}
