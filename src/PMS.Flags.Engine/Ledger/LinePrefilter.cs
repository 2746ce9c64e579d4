namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// Lets a filtered read skip the JSON parse of lines that cannot match, which is most of them: a rollout's state is
/// folded from its few events in a ledger of hundreds of thousands. A line may be skipped only when the answer is
/// certain from its text:
/// - it has no backslash, so no string in it is escaped and every value appears verbatim (an escaped value such as
///   <c>\u0041</c> or a quote inside a reason forces the full parse);
/// - it looks like a whole object (starts with '{', ends with '}'), so a torn or garbage line still reaches the parser
///   and still fails the read with LedgerMalformed as before;
/// - a value the query requires (flag, environment, user, rollout id; or any one of its event types) does not occur in
///   it, compared the way <see cref="AuditQuery.Matches"/> compares (ordinal, ignoring case): a field equal to the value
///   implies the value is a substring of the line.
/// </summary>
internal sealed class LinePrefilter
{
    private readonly string[] required;
    private readonly string[]? anyOf;

    private LinePrefilter(string[] required, string[]? anyOf)
    {
        this.required = required;
        this.anyOf = anyOf;
    }

    public static LinePrefilter? For(AuditQuery query)
    {
        var required = new[] { query.Flag, query.Environment, query.User, query.RolloutId }
            .Where(v => !string.IsNullOrEmpty(v))
            .Select(v => v!)
            .ToArray();
        var anyOf = query.EventTypes is { Count: > 0 } types && types.All(t => !string.IsNullOrEmpty(t)) ? types.ToArray() : null;
        return required.Length == 0 && anyOf is null ? null : new LinePrefilter(required, anyOf);
    }

    public bool CannotMatch(string line)
    {
        if (line.Length < 2 || line[0] != '{' || line[^1] != '}' || line.Contains('\\'))
        {
            return false;
        }

        foreach (var value in required)
        {
            if (!line.Contains(value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        if (anyOf is not null)
        {
            foreach (var type in anyOf)
            {
                if (line.Contains(type, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }

            return true;
        }

        return false;
    }
}
