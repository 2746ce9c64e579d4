using System.Buffers;
using System.Text;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Finds the text spans of an object's members in a JSON document that has already been validated.
/// Edits are spliced into the original text so that every byte we were not asked to change survives:
/// key order, indentation, line endings, number spelling, other flags and environments.
/// </summary>
public static class JsonObjectSpans
{
    private static readonly SearchValues<char> Structural = SearchValues.Create("\"{}[]");

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
        // Only quotes and brackets matter inside a skipped value; a vectorised search jumps over everything else, and a
        // string is skipped without being decoded (the values of the other flags are never needed).
        var depth = 0;
        while (i < text.Length)
        {
            var next = text.AsSpan(i).IndexOfAny(Structural);
            if (next < 0)
            {
                break;
            }

            i += next;
            switch (text[i])
            {
                case '"':
                    i = SkipString(text, i);
                    continue;
                case '{':
                case '[':
                    depth++;
                    break;
                default:
                    depth--;
                    if (depth == 0)
                    {
                        return i + 1;
                    }

                    break;
            }

            i++;
        }

        throw new FormatException("Unterminated container.");
    }

    /// <summary>The index after the closing quote of the string starting at <paramref name="i"/>, escapes skipped unread.</summary>
    private static int SkipString(string text, int i)
    {
        for (i++; i < text.Length; i++)
        {
            var next = text.AsSpan(i).IndexOfAny('"', '\\');
            if (next < 0)
            {
                break;
            }

            i += next;
            if (text[i] == '"')
            {
                return i + 1;
            }

            i++; // the escaped character (a \u escape's four hex digits hold no quote or backslash)
        }

        throw new FormatException("Unterminated string.");
    }

    private static (string Value, int End) ReadString(string text, int i)
    {
        if (text[i] != '"')
        {
            throw new FormatException($"Expected a string at offset {i}.");
        }

        // Most names have no escape: one vectorised search finds the closing quote and the name is a plain substring.
        var plain = text.AsSpan(i + 1).IndexOfAny('"', '\\');
        if (plain >= 0 && text[i + 1 + plain] == '"')
        {
            return (text.Substring(i + 1, plain), i + 2 + plain);
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
