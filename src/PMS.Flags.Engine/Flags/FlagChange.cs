namespace PMS.Flags.Engine.Flags;

/// <summary>A request to a store: the absolute target state for one flag in one environment.</summary>
public sealed class FlagChange
{
    public FlagChange(string flag, string environment, FlagChangeKind kind, decimal? percentage = null, string? comment = null, string? rule = null)
    {
        Flag = flag;
        Environment = environment;
        Kind = kind;
        Percentage = percentage;
        Comment = comment;
        Rule = rule;
    }

    public string Flag { get; }

    public string Environment { get; }

    public FlagChangeKind Kind { get; }

    public decimal? Percentage { get; }

    /// <summary>Reason and ticket, passed to stores that keep their own audit log (LaunchDarkly's comment).</summary>
    public string? Comment { get; }

    /// <summary>A LaunchDarkly rule id to change instead of the fallthrough; null for the fallthrough or for file stores.</summary>
    public string? Rule { get; }

    public override string ToString() => Kind switch
    {
        FlagChangeKind.SetPercentage => $"set {Flag} to {Percentage?.ToString(System.Globalization.CultureInfo.InvariantCulture)}% in {Environment}",
        FlagChangeKind.TurnOn => $"turn {Flag} on in {Environment}",
        _ => $"turn {Flag} off in {Environment}",
    };
}
