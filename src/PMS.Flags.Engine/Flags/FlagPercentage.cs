using System.Globalization;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Percentages are 0–100 with at most three decimals, because LaunchDarkly weights are thousandths of a percent:
/// anything finer cannot be represented by every store, so it is refused rather than silently rounded.
/// </summary>
public static class FlagPercentage
{
    public static decimal Validate(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new FlagsException("PercentageNotANumber", FlagsErrorKind.InvalidArgument, $"The percentage must be a number from 0 to 100; got {value.ToString(CultureInfo.InvariantCulture)}.", value);
        }

        if (value < 0 || value > 100)
        {
            throw new FlagsException("PercentageOutOfRange", FlagsErrorKind.InvalidArgument, $"The percentage must be from 0 to 100; got {value.ToString(CultureInfo.InvariantCulture)}.", value);
        }

        var asDecimal = decimal.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (decimal.Round(asDecimal, 3) != asDecimal)
        {
            throw new FlagsException("PercentageTooPrecise", FlagsErrorKind.InvalidArgument, $"The percentage may have at most 3 decimals (LaunchDarkly weights are thousandths of a percent); got {value.ToString(CultureInfo.InvariantCulture)}.", value);
        }

        return asDecimal;
    }

    public static string Format(decimal value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
