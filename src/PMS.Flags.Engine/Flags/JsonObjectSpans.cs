using System.Text;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Finds the text spans of an object's members in a JSON document that has already been validated.
/// Edits are spliced into the original text so that every byte we were not asked to change survives:
/// key order, indentation, line endings, number spelling, other flags and environments.
/// </summary>
public static class JsonObjectSpans
{
    /// <summary>Members of the object whose '{' is at or after <paramref name="start"/>, and the index of its closing '}'.</summary>
    public static (IReadOnlyList<JsonMember> Members, int CloseBrace) ReadObject(string text, int start)
    {
        var i = SkipWhitespace(text, start);
        if (i >= text.Length || text[i] != '{')
        {
            throw new FormatException($"Expected an object at offset {i}.");
        }

        var members = new List<JsonMember>();
        i = SkipWhitespace(text, i + 1);
        if (text[i] == '}')
        {
            return (members, i);
        }

        while (true)
        {
            var (name, afterName) = ReadString(text, i);
            i = SkipWhitespace(text, afterName);
            i = SkipWhitespace(text, i + 1); // ':'
            var valueEnd = SkipValue(text, i);
            members.Add(new JsonMember(name, i, valueEnd));
            i = SkipWhitespace(text, valueEnd);
            if (text[i] == '}')
            {
                return (members, i);
            }

            i = SkipWhitespace(text, i + 1); // ','
        }
    }

    public static int SkipWhitespace(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t' or '\r' or '\n' or '\uFEFF')
        {
            i++;
        }

        return i;
    }

    public static int SkipValue(string text, int i)
    {
        switch (text[i])
        {
            case '"':
                return ReadString(text, i).End;
            case '{':
            case '[':
                return SkipContainer(text, i);
            default:
                while (i < text.Length && text[i] is not (',' or '}' or ']' or ' ' or '\t' or '\r' or '\n'))
                {
                    i++;
                }

                return i;
        }
    }

    private static int SkipContainer(string text, int i)
    {
        var depth = 0;
        for (; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '"':
                    i = ReadString(text, i).End - 1;
                    break;
                case '{':
                case '[':
                    depth++;
                    break;
                case '}':
                case ']':
                    depth--;
                    if (depth == 0)
                    {
                        return i + 1;
                    }

                    break;
            }
        }

        throw new FormatException("Unterminated container.");
    }

    private static (string Value, int End) ReadString(string text, int i)
    {
        if (text[i] != '"')
        {
            throw new FormatException($"Expected a string at offset {i}.");
        }

        var builder = new StringBuilder();
        for (i++; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                return (builder.ToString(), i + 1);
            }

            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            var escaped = text[++i];
            switch (escaped)
            {
                case 'u':
                    builder.Append((char)Convert.ToInt32(text.Substring(i + 1, 4), 16));
                    i += 4;
                    break;
                case 'n': builder.Append('\n'); break;
                case 't': builder.Append('\t'); break;
                case 'r': builder.Append('\r'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                default: builder.Append(escaped); break;
            }
        }

        throw new FormatException("Unterminated string.");
    }
}
