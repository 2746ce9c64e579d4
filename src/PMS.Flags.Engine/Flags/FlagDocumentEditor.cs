using System.Text;
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

    public IReadOnlyList<string> ReadEnvironments() => LoadRoot().Properties().Select(p => p.Name).ToArray();

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
        var environmentMember = FindUnique(environmentMembers, change.Environment)
            ?? throw EnvironmentNotFound(change.Environment, environmentMembers.Select(m => m.Name));
        if (Text[environmentMember.ValueStart] != '{')
        {
            throw Malformed($"environment '{change.Environment}' is not an object");
        }

        var (flagMembers, _) = ReadObjectOrMalformed(Text, environmentMember.ValueStart);
        var flagMember = FindUnique(flagMembers, change.Flag) ?? throw FlagNotFound(change.Flag, change.Environment);
        var oldValueText = Text[flagMember.ValueStart..flagMember.ValueEnd];
        var oldValue = JToken.Parse(oldValueText);
        var (oldOn, oldPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, oldValue);

        var newValueText = oldValue.Type == JTokenType.Object
            ? EditObjectOrMalformed(oldValueText, change)
            : BooleanTarget(change, oldOn);
        var newText = string.Concat(Text.AsSpan(0, flagMember.ValueStart), newValueText, Text.AsSpan(flagMember.ValueEnd));
        var (newOn, newPercentage) = LocalFlagValue.Read(change.Flag, change.Environment, JToken.Parse(newValueText));
        return new FlagDocumentEdit(
            new FlagDocumentValue(change.Flag, change.Environment, oldOn, oldPercentage),
            new FlagDocumentValue(change.Flag, change.Environment, newOn, newPercentage),
            newText);
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

    private JObject LoadRoot()
    {
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

    private void ValidateDocument()
    {
        try
        {
            // Check the whole document as reads do, duplicate keys included: a document the store would refuse to read
            // (which of two "staging" objects is meant?) must not be written either. A streaming pass with one key set
            // per open object costs a fraction of building the tree, which matters on documents of thousands of flags.
            using var reader = new JsonTextReader(new StringReader(Text.TrimStart('\uFEFF')));
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

    private static FlagDocumentValue ToValue(string flag, string environment, JToken value)
    {
        var (on, percentage) = LocalFlagValue.Read(flag, environment, value);
        return new FlagDocumentValue(flag, environment, on, percentage);
    }

    private FlagsException Malformed(string why, Exception? inner = null) => Malformed(DocumentName, why, inner);

    private static FlagsException Malformed(string documentName, string why, Exception? inner)
        => new("FlagDocumentMalformed", FlagsErrorKind.InvalidData, $"The flag document '{documentName}' cannot be used: {why}. It was left as it is.", documentName, inner);

    private FlagsException EnvironmentNotFound(string environment, IEnumerable<string> known)
        => new("EnvironmentNotFound", FlagsErrorKind.ObjectNotFound, $"Environment '{environment}' is not in '{DocumentName}'. Known environments: {string.Join(", ", known)}.", environment);

    private static FlagsException FlagNotFound(string flag, string environment)
        => new("FlagNotFound", FlagsErrorKind.ObjectNotFound, $"Flag '{flag}' does not exist in environment '{environment}'.", flag);
}
