using System.Text;
using StrictJson = System.Text.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// The text of a flag document (<c>{ "environment": { "flag": value } }</c>), read and edited without file I/O so that
/// every store keeping such a document (a local file, a ConfigMap key) shares one reader and one editor. An edit splices
/// one value into the original text: key order, indentation, line endings, number spelling and every other flag survive.
/// </summary>
public sealed class FlagDocumentEditor
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="text">The document as it is stored, byte-order mark included.</param>
    /// <param name="documentName">Where the document lives, for error messages (a path, a ConfigMap key).</param>
    public FlagDocumentEditor(string text, string documentName)
        : this(text, documentName, null)
    {
    }

    private FlagDocumentEditor(string text, string documentName, byte[]? bytes)
    {
        Text = text;
        DocumentName = documentName;
        this.bytes = bytes;
    }

    // The stored bytes when the text was decoded from them: validation reads them instead of encoding the text again.
    private readonly byte[]? bytes;

    private bool validated;

    private IReadOnlyList<JsonMember>? rootMembers;

    public string Text { get; }

    public string DocumentName { get; }

    /// <summary>Decodes stored bytes as UTF-8, keeping a byte-order mark (it is part of the bytes a write must not change).</summary>
    public static FlagDocumentEditor FromBytes(byte[] bytes, string documentName)
    {
        try
        {
            return new FlagDocumentEditor(Utf8NoBom.GetString(bytes), documentName, bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw Malformed(documentName, "it is not valid UTF-8", ex);
        }
    }

    /// <summary>The bytes to store for a document text: UTF-8, with exactly the byte-order mark the text carries.</summary>
    public static byte[] ToBytes(string text) => Utf8NoBom.GetBytes(text);

    public IReadOnlyList<string> ReadEnvironments() => RootMembers().Where(IsEnvironment).Select(m => m.Name).ToArray();

    /// <summary>
    /// Top-level keys that are not environments — a name starting with <c>_</c> or <c>$</c> (<c>_meta</c>,
    /// <c>$schema</c>), or a value that is not an object of flags. Reads skip them; writes leave them byte for byte.
    /// </summary>
    public IReadOnlyList<string> ReadSkippedKeys() => RootMembers().Where(m => !IsEnvironment(m)).Select(m => m.Name).ToArray();

    private bool IsEnvironment(JsonMember member) => IsEnvironmentName(member.Name) && Text[member.ValueStart] == '{';

    private static bool IsEnvironmentName(string name) => !name.StartsWith('_') && !name.StartsWith('$');

    /// <summary>All flags of an environment, or the one named; throws FlagNotFound / EnvironmentNotFound.</summary>
    public IReadOnlyList<FlagDocumentValue> ReadFlags(string environment, string? flag)
    {
        var environmentMember = RequireEnvironment(environment);
        var (flagMembers, _) = ReadObjectOrMalformed(Text, environmentMember.ValueStart);
        if (flag is not null)
        {
            var member = FindUnique(flagMembers, flag) ?? throw FlagNotFound(flag, environment);
            return new[] { ToValue(member, environment) };
        }

        return flagMembers.Select(m => ToValue(m, environment)).ToArray();
    }

    /// <summary>What one change does to the document: the value before and after, and the new text.</summary>
    public FlagDocumentEdit Edit(FlagChange change)
    {
        var environmentMember = RequireEnvironment(change.Environment);
        var (flagMembers, _) = ReadObjectOrMalformed(Text, environmentMember.ValueStart);
        var flagMember = FindUnique(flagMembers, change.Flag) ?? throw FlagNotFound(change.Flag, change.Environment);
        var oldValueText = Text[flagMember.ValueStart..flagMember.ValueEnd];
        var oldValue = JToken.Parse(oldValueText);
        var (oldOn, oldPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, oldValue);

        var newValueText = NewValueText(change, oldValue, oldValueText, oldOn, oldPercentage);
        var newText = string.Concat(Text.AsSpan(0, flagMember.ValueStart), newValueText, Text.AsSpan(flagMember.ValueEnd));
        var (newOn, newPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, JToken.Parse(newValueText));
        return new FlagDocumentEdit(
            new FlagDocumentValue(change.Flag, change.Environment, oldOn, oldPercentage),
            new FlagDocumentValue(change.Flag, change.Environment, newOn, newPercentage),
            newText);
    }

    /// <summary>
    /// The playbook's spellings: <c>false</c> for off, <c>true</c> for fully on, an object only for a partial rollout —
    /// so a backend that reads booleans never sees <c>{"enabled": false, "rollout_percentage": 100}</c>. An object that
    /// carries keys of its own (an owner, a description) stays an object and keeps them.
    /// </summary>
    private string NewValueText(FlagChange change, JToken oldValue, string oldValueText, bool oldOn, decimal oldPercentage)
    {
        var isObject = oldValue is JObject;
        if (isObject && ((JObject)oldValue).Properties().Any(p => p.Name is not (LocalFlagValue.EnabledKey or LocalFlagValue.PercentageKey)))
        {
            return EditObjectOrMalformed(oldValueText, change);
        }

        var (on, percentage) = change.Kind switch
        {
            FlagChangeKind.TurnOff => (false, 0m),
            FlagChangeKind.TurnOn => (true, change.Percentage ?? (isObject ? oldPercentage : 100m)),
            _ => (true, change.Percentage!.Value),
        };
        if (!on || percentage == 0m)
        {
            // Already off stays exactly as it is: switching off an off flag changes no byte.
            return oldOn ? "false" : oldValueText;
        }

        if (percentage == 100m)
        {
            return "true";
        }

        return isObject
            ? EditObjectOrMalformed(oldValueText, new FlagChange(change.Flag, change.Environment, FlagChangeKind.SetPercentage, percentage))
            : $"{{ \"{LocalFlagValue.EnabledKey}\": true, \"{LocalFlagValue.PercentageKey}\": {FlagPercentage.Format(percentage)} }}";
    }

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
        // Enable-Flag carries the percentage to restore (from the ledger): the document may no longer hold it.
        return change.Kind == FlagChangeKind.SetPercentage || (change.Kind == FlagChangeKind.TurnOn && change.Percentage is not null)
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

    /// <summary>
    /// The top-level members, read from the text's spans once the strict reader accepted it: every read finds its
    /// environment and flag without building a tree of the whole document (thousands of flags), as an edit does.
    /// </summary>
    private IReadOnlyList<JsonMember> RootMembers()
    {
        ValidateDocument();
        return rootMembers ??= ReadObjectOrMalformed(Text, 0).Members;
    }

    /// <summary>
    /// The one strict reader every read and every write goes through (RFC 8259: no comments, no trailing commas, no
    /// single quotes, no unquoted keys; no key twice in one object), so a document that a write would refuse is refused
    /// on read too, with the same ErrorId and position — not first discovered during an incident's Disable-Flag.
    /// A streaming pass with one key set per open object costs a fraction of building a tree.
    /// </summary>
    private void ValidateDocument()
    {
        if (validated)
        {
            return;
        }

        var json = WithoutByteOrderMarks();
        var reader = new StrictJson.Utf8JsonReader(json, new StrictJson.JsonReaderOptions { CommentHandling = StrictJson.JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            if (!reader.Read() || reader.TokenType != StrictJson.JsonTokenType.StartObject)
            {
                throw Malformed("the top level is not an object of environments");
            }

            // One key set per nesting depth, cleared when the next object at that depth opens: ten thousand small flag
            // objects reuse one set instead of allocating one each.
            var keysByDepth = new List<HashSet<string>> { new(StringComparer.Ordinal) };
            var depth = 1;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case StrictJson.JsonTokenType.StartObject:
                        if (keysByDepth.Count == depth)
                        {
                            keysByDepth.Add(new HashSet<string>(StringComparer.Ordinal));
                        }
                        else
                        {
                            keysByDepth[depth].Clear();
                        }

                        depth++;
                        break;
                    case StrictJson.JsonTokenType.EndObject:
                        depth--;
                        break;
                    case StrictJson.JsonTokenType.PropertyName when !keysByDepth[depth - 1].Add(reader.GetString()!):
                        throw Malformed($"the key '{reader.GetString()}' appears more than once in the same object ({PositionAt(json, reader.TokenStartIndex)})");
                }
            }

            if (depth != 0)
            {
                throw Malformed("the document ends inside an object");
            }
        }
        catch (StrictJson.JsonException ex)
        {
            // The reader's own words name the fault; the position is given once, the same way on every path.
            var what = ex.Message.Split(" LineNumber:", 2)[0].TrimEnd(' ', '.');
            throw Malformed($"{what} ({Position(ex.LineNumber, ex.BytePositionInLine)})", ex);
        }

        validated = true;
    }

    /// <summary>The document's UTF-8 bytes without leading byte-order marks (they are kept in the text, but are not JSON).</summary>
    private ReadOnlySpan<byte> WithoutByteOrderMarks()
    {
        if (bytes is null)
        {
            return Encoding.UTF8.GetBytes(Text.TrimStart('\uFEFF'));
        }

        ReadOnlySpan<byte> json = bytes;
        while (json.StartsWith(Utf8ByteOrderMark))
        {
            json = json[Utf8ByteOrderMark.Length..];
        }

        return json;
    }

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => new byte[] { 0xEF, 0xBB, 0xBF };

    private static string PositionAt(ReadOnlySpan<byte> bytes, long offset)
    {
        var lineStart = bytes[..(int)Math.Max(0, offset)].LastIndexOf((byte)'\n') + 1;
        var line = bytes[..lineStart].Count((byte)'\n');
        return Position(line, offset - lineStart);
    }

    private static string Position(long? line, long? bytePositionInLine) => $"line {line + 1}, position {bytePositionInLine + 1}";

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

    private JsonMember RequireEnvironment(string environment)
    {
        var members = RootMembers();
        return FindUnique(members, environment) is { } member && IsEnvironment(member)
            ? member
            : throw EnvironmentNotFound(environment, members.Where(IsEnvironment).Select(m => m.Name));
    }

    private FlagDocumentValue ToValue(JsonMember member, string environment)
    {
        var (on, percentage) = LocalFlagValue.Read(member.Name, environment, JToken.Parse(Text[member.ValueStart..member.ValueEnd]));
        return new FlagDocumentValue(member.Name, environment, on, percentage);
    }

    private FlagsException Malformed(string why, Exception? inner = null) => Malformed(DocumentName, why, inner);

    private static FlagsException Malformed(string documentName, string why, Exception? inner)
        => new("FlagDocumentMalformed", FlagsErrorKind.InvalidData, $"The flag document '{documentName}' cannot be used: {why.TrimEnd('.', ' ')}. It was left as it is.", documentName, inner);

    private FlagsException EnvironmentNotFound(string environment, IEnumerable<string> known)
        => new("EnvironmentNotFound", FlagsErrorKind.ObjectNotFound, $"Environment '{environment}' is not in '{DocumentName}'. Known environments: {string.Join(", ", known)}.", environment);

    private static FlagsException FlagNotFound(string flag, string environment)
        => new("FlagNotFound", FlagsErrorKind.ObjectNotFound, $"Flag '{flag}' does not exist in environment '{environment}'.", flag);
}
