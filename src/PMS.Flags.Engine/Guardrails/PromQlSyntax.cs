using System.Text.RegularExpressions;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// A lexical check of a PromQL expression, offline: balanced brackets, closed strings, durations in range selectors,
/// no stray characters, no dangling operator. It cannot prove an expression right (only Prometheus can), but it
/// catches the mistakes that make <c>promtool check rules</c> reject a rule file, before a file is written.
/// </summary>
public static class PromQlSyntax
{
    private static readonly Regex Duration = new(@"^(\d+(ms|[smhdwy]))+$", RegexOptions.CultureInvariant);

    private const string OperatorCharacters = "+-*/%^=!<>";

    /// <summary>Null when the expression passes; otherwise what is wrong with it, in words.</summary>
    public static string? Problem(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return "the expression is empty";
        }

        var open = new Stack<(char Bracket, int Position)>();
        var rangeStart = -1;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            switch (c)
            {
                case '"' or '\'' or '`':
                    var end = EndOfString(expression, i);
                    if (end < 0)
                    {
                        return $"the string starting at position {i + 1} is not closed";
                    }

                    i = end;
                    break;
                case '#':
                    // A comment runs to the end of the line.
                    var newline = expression.IndexOf('\n', i);
                    i = newline < 0 ? expression.Length : newline;
                    break;
                case '(' or '{':
                    open.Push((c, i));
                    break;
                case '[':
                    open.Push((c, i));
                    rangeStart = i + 1;
                    break;
                case ')' or '}' or ']':
                    var expected = c switch { ')' => '(', '}' => '{', _ => '[' };
                    if (open.Count == 0 || open.Peek().Bracket != expected)
                    {
                        return $"'{c}' at position {i + 1} closes nothing that is open";
                    }

                    open.Pop();
                    if (c == ']')
                    {
                        var range = expression[rangeStart..i].Trim();
                        if (!IsRange(range))
                        {
                            return $"'[{range}]' is not a range: use a duration such as [5m] (or [30m:1m] for a subquery)";
                        }
                    }

                    break;
                default:
                    if (!(char.IsAsciiLetterOrDigit(c) || char.IsWhiteSpace(c) || c is '_' or ':' or '.' or ',' or '~' or '@' || OperatorCharacters.Contains(c)))
                    {
                        return $"'{c}' at position {i + 1} has no meaning in PromQL";
                    }

                    break;
            }
        }

        if (open.Count > 0)
        {
            var (bracket, position) = open.Peek();
            return $"'{bracket}' at position {position + 1} is never closed";
        }

        var last = expression.TrimEnd()[^1];
        if (OperatorCharacters.Contains(last) || last is ',' or '~')
        {
            return $"the expression ends with '{last}', which needs something after it";
        }

        return null;
    }

    private static bool IsRange(string range)
    {
        var parts = range.Split(':');
        return parts.Length switch
        {
            1 => Duration.IsMatch(parts[0]),
            2 => Duration.IsMatch(parts[0].Trim()) && (parts[1].Trim().Length == 0 || Duration.IsMatch(parts[1].Trim())),
            _ => false,
        };
    }

    private static int EndOfString(string text, int start)
    {
        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\' && quote != '`')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
            else if (text[i] == '\n' && quote != '`')
            {
                return -1;
            }
        }

        return -1;
    }
}
