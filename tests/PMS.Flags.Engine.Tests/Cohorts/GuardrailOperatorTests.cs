using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Tests.Guardrails;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Cohorts;

/// <summary>Operators as the playbook writes them (&gt;, &gt;=, &lt;, &lt;=) and by name; anything else refused.</summary>
public sealed class GuardrailOperatorTests
{
    [Theory]
    [InlineData(">", GuardrailOperator.GreaterThan)]
    [InlineData(">=", GuardrailOperator.GreaterOrEqual)]
    [InlineData("<", GuardrailOperator.LessThan)]
    [InlineData(" <= ", GuardrailOperator.LessOrEqual)]
    [InlineData("GreaterThan", GuardrailOperator.GreaterThan)]
    [InlineData("greaterorequal", GuardrailOperator.GreaterOrEqual)]
    [InlineData("LessThan", GuardrailOperator.LessThan)]
    [InlineData("LESSOREQUAL", GuardrailOperator.LessOrEqual)]
    public void Every_spelling_parses(string text, GuardrailOperator expected) => Assert.Equal(expected, GuardrailOperators.Parse(text));

    [Theory]
    [InlineData("=>")]
    [InlineData("==")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("1")]
    [InlineData("Greater")]
    [InlineData("gt")]
    public void Anything_else_is_GuardrailOperatorInvalid(string? text)
    {
        var ex = Assert.Throws<FlagsException>(() => GuardrailOperators.Parse(text));
        Assert.Equal("GuardrailOperatorInvalid", ex.ErrorId);
        Assert.Contains(">, >=, <, <=, GreaterThan, GreaterOrEqual, LessThan, LessOrEqual", ex.Message);
    }

    [Fact]
    public void The_comparison_includes_equality_only_for_the_or_equal_operators()
    {
        Assert.False(GuardrailOperator.GreaterThan.Holds(1, 1));
        Assert.True(GuardrailOperator.GreaterOrEqual.Holds(1, 1));
        Assert.False(GuardrailOperator.LessThan.Holds(1, 1));
        Assert.True(GuardrailOperator.LessOrEqual.Holds(1, 1));
        Assert.False(GuardrailOperator.GreaterOrEqual.Holds(double.NaN, 1));
        Assert.True(GuardrailOperator.GreaterOrEqual.HigherIsWorse());
        Assert.False(GuardrailOperator.LessOrEqual.HigherIsWorse());
    }

    [Fact]
    public async Task A_series_at_the_threshold_breaches_with_or_equal_and_the_expression_says_so()
    {
        using var prometheus = new FakePrometheus();
        using var factory = new GuardrailFactory(prometheus, RolloutFixture.FastHttp, new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        prometheus.Vector("q", ("status=500", "0.05"), ("status=502", "0.01"));

        var atLeast = GuardrailDefinition.ForPrometheus("E", FakePrometheus.Url, "q", GuardrailOperators.Parse(">="), 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);
        var r = await factory.Create(atLeast).EvaluateAsync(CancellationToken.None);
        Assert.Equal("q >= 0.05", atLeast.Expression);
        Assert.Equal(GuardrailStatus.Breached, r.Status);
        Assert.Equal(">= 0.05", r.ThresholdText);
        Assert.Equal(0.05, r.Value);

        var atMost = GuardrailDefinition.ForPrometheus("L", FakePrometheus.Url, "q", GuardrailOperators.Parse("<="), 0.01, TimeSpan.Zero, GuardrailSeverity.Critical);
        var low = await factory.Create(atMost).EvaluateAsync(CancellationToken.None);
        Assert.Equal(GuardrailStatus.Breached, low.Status);
        Assert.Equal(0.01, low.Value);
        Assert.Equal(GuardrailOperator.LessOrEqual, GuardrailDefinition.Parse(atMost.ToJsonString()).Operator);

        var strictly = GuardrailDefinition.ForPrometheus("S", FakePrometheus.Url, "q", GuardrailOperators.Parse(">"), 0.05, TimeSpan.Zero, GuardrailSeverity.Critical);
        Assert.Equal(GuardrailStatus.Healthy, (await factory.Create(strictly).EvaluateAsync(CancellationToken.None)).Status);
    }
}
