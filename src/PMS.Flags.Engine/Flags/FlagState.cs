namespace PMS.Flags.Engine.Flags;

/// <summary>One flag in one environment, as a store reports it. Immutable, so it can be piped and compared safely.</summary>
public sealed class FlagState
{
    public FlagState(string flag, string environment, bool on, decimal? percentage, string store, string? version = null, DateTimeOffset? lastModified = null, string? servedBy = null)
    {
        Flag = flag;
        Environment = environment;
        On = on;
        Percentage = percentage;
        Store = store;
        Version = version;
        LastModified = lastModified;
        ServedBy = servedBy;
    }

    public string Flag { get; }

    public string Environment { get; }

    public bool On { get; }

    /// <summary>The rollout percentage the store holds; null when the store cannot say (for example an unset off-variation).</summary>
    public decimal? Percentage { get; }

    /// <summary>What users actually get: nothing while the flag is off, whatever the stored percentage.</summary>
    public decimal? EffectivePercentage => On ? Percentage : OffPercentage;

    /// <summary>What the flag serves while off; 0 for file stores, the off-variation's value for LaunchDarkly.</summary>
    public decimal? OffPercentage { get; init; } = 0m;

    public string Store { get; }

    public string? Version { get; }

    public DateTimeOffset? LastModified { get; }

    /// <summary>Which part of the flag carries the percentage: "document" for file stores, "fallthrough" or a rule id for LaunchDarkly.</summary>
    public string? ServedBy { get; }

    public override string ToString() => $"{Flag} [{Environment}] {(On ? "on" : "off")} {Percentage?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}%";
}
