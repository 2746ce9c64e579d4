using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Flags in <c>feature_flags.json</c>: <c>{ "environment": { "flag": value } }</c>. A write splices one value into the
/// original text under a cross-process lock, writes a temporary file beside it, flushes it and renames it over the
/// original, so readers see either the old or the new document and a concurrent writer never loses an update.
/// </summary>
public sealed class LocalFileFlagStore : IFlagStore
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly JsonLoadSettings StrictLoad = new() { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error, CommentHandling = CommentHandling.Ignore };
    private readonly TimeSpan lockTimeout;

    public LocalFileFlagStore(string path, string? defaultEnvironment = null, IEnumerable<string>? protectedEnvironments = null, TimeSpan? lockTimeout = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        DefaultEnvironment = defaultEnvironment;
        ProtectedEnvironments = (protectedEnvironments ?? new[] { "production" }).ToArray();
        this.lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
    }

    public string Kind => "LocalFile";

    public string Name => $"LocalFile:{Path}";

    public string Path { get; }

    public string? DefaultEnvironment { get; }

    public IReadOnlyCollection<string> ProtectedEnvironments { get; }

    private string LockPath => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "." + System.IO.Path.GetFileName(Path) + ".lock");

    public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken)
    {
        var document = Load();
        IReadOnlyList<string> names = document.Root.Properties().Select(p => p.Name).ToArray();
        return Task.FromResult(names);
    }

    public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
    {
        var document = Load();
        var environmentObject = RequireEnvironment(document.Root, environment);
        var lastModified = new DateTimeOffset(File.GetLastWriteTimeUtc(Path), TimeSpan.Zero);
        if (flag is not null)
        {
            var value = environmentObject[flag] ?? throw FlagNotFound(flag, environment);
            return Task.FromResult<IReadOnlyList<FlagState>>(new[] { ToState(flag, environment, value, lastModified) });
        }

        IReadOnlyList<FlagState> all = environmentObject.Properties().Select(p => ToState(p.Name, environment, p.Value, lastModified)).ToArray();
        return Task.FromResult(all);
    }

    public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken)
    {
        var text = ReadText();
        return Task.FromResult(Plan(text, change).Result);
    }

    public Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken)
    {
        using var fileLock = ExclusiveFileLock.Acquire(LockPath, lockTimeout, cancellationToken);
        var text = ReadText();
        var plan = Plan(text, change);
        if (plan.Result.Changed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteAtomically(plan.NewText);
        }

        return Task.FromResult(plan.Result);
    }

    public override string ToString() => Name;

    private (FlagChangeResult Result, string NewText) Plan(string text, FlagChange change)
    {
        ValidateDocument(text);
        var (environmentMembers, _) = ReadObjectOrMalformed(text, 0);
        var environmentMember = FindUnique(environmentMembers, change.Environment)
            ?? throw EnvironmentNotFound(change.Environment, environmentMembers.Select(m => m.Name));
        if (text[environmentMember.ValueStart] != '{')
        {
            throw Malformed($"environment '{change.Environment}' is not an object");
        }

        var (flagMembers, _) = ReadObjectOrMalformed(text, environmentMember.ValueStart);
        var flagMember = FindUnique(flagMembers, change.Flag) ?? throw FlagNotFound(change.Flag, change.Environment);
        var oldValueText = text[flagMember.ValueStart..flagMember.ValueEnd];
        var oldValue = JToken.Parse(oldValueText);
        var (oldOn, oldPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, oldValue);

        var newValueText = oldValue.Type == JTokenType.Object
            ? EditObjectOrMalformed(oldValueText, change)
            : BooleanTarget(change, oldOn);
        var newText = string.Concat(text.AsSpan(0, flagMember.ValueStart), newValueText, text.AsSpan(flagMember.ValueEnd));
        var (newOn, newPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, JToken.Parse(newValueText));
        var now = DateTimeOffset.UtcNow;
        var previous = new FlagState(change.Flag, change.Environment, oldOn, oldPercentage, Name, lastModified: new DateTimeOffset(File.GetLastWriteTimeUtc(Path), TimeSpan.Zero), servedBy: "document");
        var current = new FlagState(change.Flag, change.Environment, newOn, newPercentage, Name, lastModified: now, servedBy: "document");
        // Compare meaning, not spelling: "25.0" in the file is already 25%, and its spelling is kept.
        return (new FlagChangeResult(previous, current, newOn != oldOn || newPercentage != oldPercentage), newText);
    }

    private static string BooleanTarget(FlagChange change, bool currentlyOn) => change.Kind switch
    {
        FlagChangeKind.TurnOff => "false",
        FlagChangeKind.TurnOn => "true",
        _ when change.Percentage == 100m => "true",
        _ => $"{{ \"{LocalFlagValue.EnabledKey}\": true, \"{LocalFlagValue.PercentageKey}\": {FlagPercentage.Format(change.Percentage!.Value)} }}",
    };

    private string EditObjectOrMalformed(string objectText, FlagChange change)
    {
        try
        {
            return EditObject(objectText, change);
        }
        catch (Exception ex) when (ex is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw Malformed($"flag '{change.Flag}' in '{change.Environment}' is not a plain JSON object ({ex.Message})", ex);
        }
    }

    private static string EditObject(string objectText, FlagChange change)
    {
        var edited = SetMember(objectText, LocalFlagValue.EnabledKey, change.Kind == FlagChangeKind.TurnOff ? "false" : "true");
        return change.Kind == FlagChangeKind.SetPercentage
            ? SetMember(edited, LocalFlagValue.PercentageKey, FlagPercentage.Format(change.Percentage!.Value))
            : edited;
    }

    private static string SetMember(string objectText, string name, string valueText)
    {
        var (members, closeBrace) = JsonObjectSpans.ReadObject(objectText, 0);
        var member = members.LastOrDefault(m => m.Name == name);
        if (member != default)
        {
            return string.Concat(objectText.AsSpan(0, member.ValueStart), valueText, objectText.AsSpan(member.ValueEnd));
        }

        var insertion = members.Count == 0 ? $" \"{name}\": {valueText} " : $", \"{name}\": {valueText}";
        var at = members.Count == 0 ? closeBrace : members[^1].ValueEnd;
        return objectText.Insert(at, insertion);
    }

    private LoadedDocument Load()
    {
        var text = ReadText();
        try
        {
            // A byte-order mark is kept in the text (it is part of the bytes a write must not change) but is not JSON.
            var root = JToken.Parse(text.TrimStart('\uFEFF'), StrictLoad);
            if (root is not JObject rootObject)
            {
                throw Malformed("the top level is not an object of environments");
            }

            return new LoadedDocument(rootObject);
        }
        catch (JsonException ex)
        {
            throw Malformed(ex.Message, ex);
        }
    }

    private string ReadText()
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

        try
        {
            // Keep a byte-order mark if the file has one: it is part of the bytes we must not change.
            return Utf8NoBom.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw Malformed("it is not valid UTF-8", ex);
        }
    }

    private void ValidateDocument(string text)
    {
        try
        {
            // Check the whole document as reads do, duplicate keys included: a document the store would refuse to read
            // (which of two "staging" objects is meant?) must not be written either. A streaming pass with one key set
            // per open object costs a fraction of building the tree, which matters on documents of thousands of flags.
            using var reader = new JsonTextReader(new StringReader(text.TrimStart('\uFEFF')));
            if (!reader.Read() || reader.TokenType != JsonToken.StartObject)
            {
                throw Malformed("the top level is not an object of environments");
            }

            var openObjects = new Stack<HashSet<string>>();
            openObjects.Push(new HashSet<string>(StringComparer.Ordinal));
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonToken.StartObject:
                        openObjects.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonToken.EndObject:
                        openObjects.Pop();
                        break;
                    case JsonToken.PropertyName when !openObjects.Peek().Add((string)reader.Value!):
                        throw Malformed($"the key '{reader.Value}' appears more than once in the same object (at {reader.Path})");
                }
            }

            if (openObjects.Count != 0)
            {
                throw Malformed("the document ends inside an object");
            }
        }
        catch (JsonException ex)
        {
            throw Malformed(ex.Message, ex);
        }
    }

    private (IReadOnlyList<JsonMember> Members, int CloseBrace) ReadObjectOrMalformed(string text, int start)
    {
        try
        {
            return JsonObjectSpans.ReadObject(text, start);
        }
        catch (Exception ex) when (ex is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw Malformed(ex.Message, ex);
        }
    }

    private JsonMember? FindUnique(IReadOnlyList<JsonMember> members, string name)
    {
        var matches = members.Where(m => m.Name == name).ToArray();
        return matches.Length switch
        {
            0 => null,
            1 => matches[0],
            _ => throw Malformed($"the key '{name}' appears {matches.Length} times"),
        };
    }

    private void WriteAtomically(string newText)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = Utf8NoBom.GetBytes(newText);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(Path));
            }

            File.Move(temporary, Path, overwrite: true);
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

    private JObject RequireEnvironment(JObject root, string environment)
    {
        if (root[environment] is JObject environmentObject)
        {
            return environmentObject;
        }

        if (root[environment] is null)
        {
            throw EnvironmentNotFound(environment, root.Properties().Select(p => p.Name));
        }

        throw Malformed($"environment '{environment}' is not an object");
    }

    private FlagState ToState(string flag, string environment, JToken value, DateTimeOffset lastModified)
    {
        var (on, percentage) = LocalFlagValue.Read(flag, environment, value);
        return new FlagState(flag, environment, on, percentage, Name, lastModified: lastModified, servedBy: "document");
    }

    private FlagsException Malformed(string why, Exception? inner = null)
        => new("FlagDocumentMalformed", FlagsErrorKind.InvalidData, $"The flag document '{Path}' cannot be used: {why}. It was left as it is.", Path, inner);

    private FlagsException EnvironmentNotFound(string environment, IEnumerable<string> known)
        => new("EnvironmentNotFound", FlagsErrorKind.ObjectNotFound, $"Environment '{environment}' is not in '{Path}'. Known environments: {string.Join(", ", known)}.", environment);

    private static FlagsException FlagNotFound(string flag, string environment)
        => new("FlagNotFound", FlagsErrorKind.ObjectNotFound, $"Flag '{flag}' does not exist in environment '{environment}'.", flag);

    private sealed record LoadedDocument(JObject Root);
}
