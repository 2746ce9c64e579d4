using System.Text;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// The little of Python's lexical structure that reading alembic scripts needs: comments, string literals (single,
/// double, triple, with prefixes), and logical lines joined across brackets and backslashes. Never evaluates anything.
/// </summary>
internal static class PythonSource
{
    /// <summary>Splits source into logical lines with comments removed; each keeps its first physical line's indentation.</summary>
    public static IReadOnlyList<string> LogicalLines(string source)
    {
        var lines = new List<string>();
        var current = new StringBuilder();
        var depth = 0;
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (IsStringStart(source, i, out var prefixLength))
            {
                var end = StringEnd(source, i + prefixLength);
                current.Append(source, i, end - i);
                i = end;
                continue;
            }

            switch (c)
            {
                case '#':
                    while (i < source.Length && source[i] != '\n')
                    {
                        i++;
                    }

                    continue;
                case '(' or '[' or '{':
                    depth++;
                    break;
                case ')' or ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
                case '\\' when i + 1 < source.Length && source[i + 1] == '\n':
                    i += 2;
                    current.Append(' ');
                    continue;
                case '\r':
                    i++;
                    continue;
                case '\n':
                    if (depth == 0)
                    {
                        Flush();
                    }
                    else
                    {
                        current.Append(' ');
                    }

                    i++;
                    continue;
            }

            current.Append(c);
            i++;
        }

        Flush();
        return lines;

        void Flush()
        {
            if (current.ToString().Trim().Length > 0)
            {
                lines.Add(current.ToString().TrimEnd());
            }

            current.Clear();
        }
    }

    /// <summary>The values of the string literals in an expression, in order (escape sequences left as written).</summary>
    public static IReadOnlyList<string> StringLiterals(string expression)
    {
        var values = new List<string>();
        var i = 0;
        while (i < expression.Length)
        {
            if (IsStringStart(expression, i, out var prefixLength))
            {
                var start = i + prefixLength;
                var quote = QuoteAt(expression, start);
                var end = StringEnd(expression, start);
                var contentEnd = Math.Max(start + quote.Length, end - quote.Length);
                values.Add(expression.Substring(start + quote.Length, contentEnd - start - quote.Length));
                i = end;
            }
            else
            {
                i++;
            }
        }

        return values;
    }

    /// <summary>The expression with every string literal replaced by "", so code can be searched without matching text inside strings.</summary>
    public static string WithoutStrings(string expression)
    {
        var builder = new StringBuilder();
        var i = 0;
        while (i < expression.Length)
        {
            if (IsStringStart(expression, i, out var prefixLength))
            {
                builder.Append("\"\"");
                i = StringEnd(expression, i + prefixLength);
            }
            else
            {
                builder.Append(expression[i]);
                i++;
            }
        }

        return builder.ToString();
    }

    public static int Indentation(string line) => line.Length - line.TrimStart(' ', '\t').Length;

    private static bool IsStringStart(string text, int index, out int prefixLength)
    {
        prefixLength = 0;
        var i = index;
        // Prefixes r, b, u, f and their pairs, only when not part of a longer identifier.
        if (i > 0 && (char.IsLetterOrDigit(text[i - 1]) || text[i - 1] == '_'))
        {
            return false;
        }

        while (i < text.Length && i - index < 2 && "rRbBuUfF".Contains(text[i]))
        {
            i++;
        }

        if (i < text.Length && text[i] is '\'' or '"')
        {
            prefixLength = i - index;
            return true;
        }

        return false;
    }

    private static string QuoteAt(string text, int index)
    {
        var q = text[index];
        return index + 2 < text.Length && text[index + 1] == q && text[index + 2] == q ? new string(q, 3) : q.ToString();
    }

    private static int StringEnd(string text, int quoteIndex)
    {
        var quote = QuoteAt(text, quoteIndex);
        var i = quoteIndex + quote.Length;
        while (i < text.Length)
        {
            if (text[i] == '\\')
            {
                i += 2;
                continue;
            }

            if (string.CompareOrdinal(text, i, quote, 0, quote.Length) == 0)
            {
                return i + quote.Length;
            }

            if (quote.Length == 1 && text[i] == '\n')
            {
                return i;
            }

            i++;
        }

        return text.Length;
    }
}
