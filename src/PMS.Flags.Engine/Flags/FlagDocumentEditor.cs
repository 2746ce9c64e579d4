using System.Text;
using StrictJson = System.Text.Json;
using Newtonsoft.Json;
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
    private static readonly JsonLoadSettings StrictLoad = new() { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error, CommentHandling = CommentHandling.Ignore };

    /// <param name="text">The document as it is stored, byte-order mark included.</param>
    /// <param name="documentName">Where the document lives, for error messages (a path, a ConfigMap key).</param>
    public FlagDocumentEditor(string text, string documentName)
    {
        Text = text;
        DocumentName = documentName;
    }

    private bool validated;

    public string Text { get; }

    public string DocumentName { get; }

    /// <summary>Decodes stored bytes as UTF-8, keeping a byte-order mark (it is part of the bytes a write must not change).</summary>
    public static FlagDocumentEditor FromBytes(byte[] bytes, string documentName)
    {
        try
        {
            return new FlagDocumentEditor(Utf8NoBom.GetString(bytes), documentName);
        }
        catch (DecoderFallbackException ex)
        {
            throw Malformed(documentName, "it is not valid UTF-8", ex);
        }
    }

    /// <summary>The bytes to store for a document text: UTF-8, with exactly the byte-order mark the text carries.</summary>
    public static byte[] ToBytes(string text) => Utf8NoBom.GetBytes(text);

    public IReadOnlyList<string> ReadEnvironments() => LoadRoot().Properties().Where(IsEnvironment).Select(p => p.Name).ToArray();

    /// <summary>
    /// Top-level keys that are not environments — a name starting with <c>_</c> or <c>$</c> (<c>_meta</c>,
    /// <c>$schema</c>), or a value that is not an object of flags. Reads skip them; writes leave them byte for byte.
    /// </summary>
    public IReadOnlyList<string> ReadSkippedKeys() => LoadRoot().Properties().Where(p => !IsEnvironment(p)).Select(p => p.Name).ToArray();

    private static bool IsEnvironment(JProperty property) => IsEnvironmentName(property.Name) && property.Value.Type == JTokenType.Object;

    private static bool IsEnvironmentName(string name) => !name.StartsWith('_') && !name.StartsWith('$');

    /// <summary>All flags of an environment, or the one named; throws FlagNotFound / EnvironmentNotFound.</summary>
    public IReadOnlyList<FlagDocumentValue> ReadFlags(string environment, string? flag)
    {
        var root = LoadRoot();
        var environmentObject = RequireEnvironment(root, environment);
        if (flag is not null)
        {
            var value = environmentObject[flag] ?? throw FlagNotFound(flag, environment);
            return new[] { ToValue(flag, environment, value) };
        }

        return environmentObject.Properties().Select(p => ToValue(p.Name, environment, p.Value)).ToArray();
    }

    /// <summary>What one change does to the document: the value before and after, and the new text.</summary>
    public FlagDocumentEdit Edit(FlagChange change)
    {
        ValidateDocument();
        var (environmentMembers, _) = ReadObjectOrMalformed(Text, 0);
        if (FindUnique(environmentMembers, change.Environment) is not { } environmentMember
            || !IsEnvironmentName(change.Environment) || Text[environmentMember.ValueStart] != '{')
        {
            throw EnvironmentNotFound(change.Environment, ReadEnvironments());
        }

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

    private JObject LoadRoot()
    {
        ValidateDocument();
        try
        {
            // A byte-order mark is kept in the text (it is part of the bytes a write must not change) but is not JSON.
            var root = JToken.Parse(Text.TrimStart('\uFEFF'), StrictLoad);
            if (root is not JObject rootObject)
            {
                throw Malformed("the top level is not an object of environments");
            }

            return rootObject;
        }
        catch (JsonException ex)
        {
            throw Malformed(ex.Message, ex);
        }
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

        var bytes = Encoding.UTF8.GetBytes(Text.TrimStart('\uFEFF'));
        var reader = new StrictJson.Utf8JsonReader(bytes, new StrictJson.JsonReaderOptions { CommentHandling = StrictJson.JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            if (!reader.Read() || reader.TokenType != StrictJson.JsonTokenType.StartObject)
            {
                throw Malformed("the top level is not an object of environments");
            }

            var openObjects = new Stack<HashSet<string>>();
            openObjects.Push(new HashSet<string>(StringComparer.Ordinal));
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case StrictJson.JsonTokenType.StartObject:
                        openObjects.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case StrictJson.JsonTokenType.EndObject:
                        openObjects.Pop();
                        break;
                    case StrictJson.JsonTokenType.PropertyName when !openObjects.Peek().Add(reader.GetString()!):
                        throw Malformed($"the key '{reader.GetString()}' appears more than once in the same object ({PositionAt(bytes, reader.TokenStartIndex)})");
                }
            }

            if (openObjects.Count != 0)
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

    private static string PositionAt(byte[] bytes, long offset)
    {
        var lineStart = Array.LastIndexOf(bytes, (byte)'\n', (int)Math.Max(0, offset - 1)) + 1;
        var line = bytes.AsSpan(0, lineStart).Count((byte)'\n');
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

    private JObject RequireEnvironment(JObject root, string environment)
        => root[environment] is JObject environmentObject && IsEnvironmentName(environment)
            ? environmentObject
            : throw EnvironmentNotFound(environment, root.Properties().Where(IsEnvironment).Select(p => p.Name));

    private static FlagDocumentValue ToValue(string flag, string environment, JToken value)
    {
        var (on, percentage) = LocalFlagValue.Read(flag, environment, value);
        return new FlagDocumentValue(flag, environment, on, percentage);
    }

    private FlagsException Malformed(string why, Exception? inner = null) => Malformed(DocumentName, why, inner);

    private static FlagsException Malformed(string documentName, string why, Exception? inner)
        => new("FlagDocumentMalformed", FlagsErrorKind.InvalidData, $"The flag document '{documentName}' cannot be used: {why.TrimEnd('.', ' ')}. It was left as it is.", documentName, inner);

    private FlagsException EnvironmentNotFound(string environment, IEnumerable<string> known)
        => new("EnvironmentNotFound", FlagsErrorKind.ObjectNotFound, $"Environment '{environment}' is not in '{DocumentName}'. Known environments: {string.Join(", ", known)}.", environment);

    private static FlagsException FlagNotFound(string flag, string environment)
        => new("FlagNotFound", FlagsErrorKind.ObjectNotFound, $"Flag '{flag}' does not exist in environment '{environment}'.", flag);
}
