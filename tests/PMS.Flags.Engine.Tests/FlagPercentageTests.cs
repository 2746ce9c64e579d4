using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Tests;

/// <summary>0–100 with at most three decimals: refused, never rounded.</summary>
public sealed class FlagPercentageTests
{
    [Theory]
    [InlineData(150, "PercentageOutOfRange")]
    [InlineData(100.001, "PercentageOutOfRange")]
    [InlineData(-1, "PercentageOutOfRange")]
    [InlineData(-0.001, "PercentageOutOfRange")]
    [InlineData(double.NaN, "PercentageNotANumber")]
    [InlineData(double.PositiveInfinity, "PercentageNotANumber")]
    [InlineData(double.NegativeInfinity, "PercentageNotANumber")]
    [InlineData(12.3456, "PercentageTooPrecise")]
    [InlineData(0.0001, "PercentageTooPrecise")]
    public void Invalid_percentages_are_refused(double value, string errorId)
    {
        var ex = Assert.Throws<FlagsException>(() => FlagPercentage.Validate(value));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(FlagsErrorKind.InvalidArgument, ex.Kind);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(100, "100")]
    [InlineData(12.345, "12.345")]
    [InlineData(12.5, "12.5")]
    [InlineData(0.001, "0.001")]
    [InlineData(33.3, "33.3")]
    public void Valid_percentages_become_exact_decimals(double value, string expected)
    {
        var percentage = FlagPercentage.Validate(value);

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), percentage);
        Assert.Equal(expected, FlagPercentage.Format(percentage));
    }

    [Fact]
    public void Format_uses_the_invariant_culture_and_no_trailing_zeros()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("12.5", FlagPercentage.Format(12.500m));
            Assert.Equal("25", FlagPercentage.Format(25.000m));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }
}
