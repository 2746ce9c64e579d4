using System.Globalization;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>A flag's value as the playbook's document spells it: on/off and a percentage.</summary>
public sealed record FlagValue(bool On, decimal Percentage)
{
    public override string ToString() => On ? $"on {Percentage.ToString("0.##", CultureInfo.InvariantCulture)}%" : "off";
}
