using System.Globalization;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Compares the cohort a rollout exposed with the users it did not, by <see cref="CohortSequentialTest"/>: a threshold
/// on the global error rate cannot see a feature that fails only its 5 % of users, a comparison of the two cohorts can.
/// Each evaluation sends two instant queries (bad requests and all requests, summed per variant label) over the
/// requests since the current stage reached users (<see cref="GuardrailContext"/>), or over the guardrail's window
/// outside a rollout, and judges them: Breached when the test concludes the exposed cohort is worse; while a cohort has
/// fewer than the minimum samples, Pending inside a stage whose bake still runs and NoData otherwise (neither counts);
/// Healthy otherwise.
/// An answer that cannot be the cohorts the guardrail was told about (no variant label, or variants other than the
/// treatment and control with one of those missing) is a configuration fault: a FlagsException outside a stage, so a
/// rollout never starts on it, and status Error inside one, as a rejected query is.
/// </summary>
public sealed class CohortGuardrail : IGuardrail
{
    private readonly PrometheusApi api;
    private readonly TimeProvider time;

    internal CohortGuardrail(GuardrailDefinition definition, GuardrailHttp http, TimeProvider time)
    {
        definition.Validate();
        if (definition.Kind != GuardrailDefinition.CohortKind)
        {
            throw new ArgumentException($"Not a {GuardrailDefinition.CohortKind} guardrail definition.", nameof(definition));
        }

        Definition = definition;
        api = new PrometheusApi(definition.Name, definition.PrometheusUrl!, http);
        this.time = time;
    }

    public string Name => Definition.Name;

    public GuardrailSeverity Severity => Definition.Severity;

    public GuardrailDefinition Definition { get; }

    public Task<GuardrailResult> EvaluateAsync(CancellationToken cancellationToken) => EvaluateAsync(GuardrailContext.None, cancellationToken);

    public async Task<GuardrailResult> EvaluateAsync(GuardrailContext context, CancellationToken cancellationToken)
    {
        var flag = Definition.Flag;
        if (string.IsNullOrWhiteSpace(flag))
        {
            throw new FlagsException(
                "CohortFlagRequired",
                FlagsErrorKind.InvalidArgument,
                $"Cohort guardrail '{Definition.Name}' compares the variants of one flag: pass -Flag to New-FlagGuardrail. In a rollout the rollout's flag fills it in.",
                Definition.Name);
        }

        var evaluatedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var since = context.StageEnteredAt is { } entered && entered <= evaluatedAt ? entered : (DateTimeOffset?)null;
        var window = since is { } from ? evaluatedAt - from : Definition.Window;
        var (badQuery, totalQuery) = CohortQueries.Build(Definition, flag, window);
        var threshold = Math.Log(1 / Definition.FalseAlarmRate);
        var baseline = new GuardrailResult
        {
            Guardrail = Definition.Name,
            Kind = Definition.Kind,
            Severity = Definition.Severity,
            Status = GuardrailStatus.Healthy,
            Query = badQuery,
            Expression = Definition.Expression,
            Operator = GuardrailOperator.GreaterOrEqual,
            Threshold = Math.Round(threshold, 4),
            For = TimeSpan.Zero,
            NoData = Definition.NoData,
            EvaluatedAt = evaluatedAt,
        };
        var evidence = new CohortEvidence
        {
            Flag = flag,
            VariantLabel = Definition.VariantLabel,
            Treatment = Definition.Treatment,
            Control = Definition.Control,
            Window = TimeSpan.FromSeconds(Math.Ceiling(Math.Max(1, window.TotalSeconds))),
            Since = since,
            Threshold = threshold,
            FalseAlarmRate = Definition.FalseAlarmRate,
            MinimumRelativeRegression = Definition.MinimumRelativeRegression,
            BadQuery = badQuery,
            TotalQuery = totalQuery,
            Statistic = double.NaN,
        };

        if (context.StagePercentage >= 100)
        {
            // Everyone gets the treatment: nothing to compare it with. The threshold guardrails judge this stage.
            return Finish(baseline with { Counted = false, Reason = $"the stage serves {Definition.Treatment} to every request: no unexposed cohort to compare with, so this guardrail has nothing to judge (threshold guardrails judge full exposure)", Cohort = evidence }, started);
        }

        var warnings = new List<string>();
        var totalAnswer = await api.QueryAsync(totalQuery, cancellationToken).ConfigureAwait(false);
        warnings.AddRange(totalAnswer.Warnings);
        if (totalAnswer.Error is { } totalError)
        {
            return Finish(baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = totalError, Warnings = warnings, Cohort = evidence }, started);
        }

        var badAnswer = await api.QueryAsync(badQuery, cancellationToken).ConfigureAwait(false);
        warnings.AddRange(badAnswer.Warnings);
        if (badAnswer.Error is { } badError)
        {
            return Finish(baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = badError, Warnings = warnings, Cohort = evidence }, started);
        }

        var fault = Unlabelled(totalAnswer, "total", totalQuery) ?? Unlabelled(badAnswer, "bad-request", badQuery);
        var totals = fault is null ? PerVariant(totalAnswer) : new Dictionary<string, double>();
        var bads = fault is null ? PerVariant(badAnswer) : new Dictionary<string, double>();
        fault ??= UnknownVariants(totals.Keys);
        if (fault is { } f)
        {
            if (!context.InStage)
            {
                throw new FlagsException(f.ErrorId, FlagsErrorKind.InvalidArgument, f.Message, Definition.Name);
            }

            return Finish(baseline with { Status = GuardrailStatus.Error, Counted = false, Reason = $"{f.ErrorId}: {f.Message}", Warnings = warnings, Cohort = evidence }, started);
        }

        var measured = CohortSequentialTest.Evaluate(
            totals.GetValueOrDefault(Definition.Treatment),
            bads.GetValueOrDefault(Definition.Treatment),
            totals.GetValueOrDefault(Definition.Control),
            bads.GetValueOrDefault(Definition.Control),
            Definition.MinimumRelativeRegression,
            Definition.FalseAlarmRate);
        evidence = evidence with
        {
            TreatmentRequests = measured.TreatmentRequests,
            TreatmentBad = measured.TreatmentBad,
            ControlRequests = measured.ControlRequests,
            ControlBad = measured.ControlBad,
            Share = measured.Share,
            Estimate = measured.Estimate,
            Lower = measured.Lower,
            Upper = measured.Upper,
            Statistic = measured.Statistic,
            Concluded = measured.Concluded,
        };

        var minimum = Definition.MinimumSamples;
        if (!context.InStage && context.StagePercentage == 0 && evidence.TreatmentRequests <= 0 && evidence.ControlRequests > 0)
        {
            // Before a rollout nobody is exposed, so there is no treatment cohort yet; seeing the control cohort proves the
            // queries and labels work, which is all a start can ask of this guardrail. Stage 1 is where it starts judging.
            return Finish(baseline with { Counted = false, Reason = $"nothing is exposed yet: {Definition.Control} {Whole(evidence.ControlRequests)} requests {Span(since, evidence.Window)}; the comparison starts with the first stage", Warnings = warnings, Cohort = evidence }, started);
        }

        if (evidence.ControlRequests <= 0 && evidence.TreatmentRequests > 0 && !context.InStage)
        {
            return Finish(baseline with { Status = GuardrailStatus.NoData, Counted = false, Reason = $"only {Definition.Treatment} requests {Span(since, evidence.Window)}: the flag serves everyone, so there is no unexposed cohort to compare with", Warnings = warnings, Cohort = evidence }, started);
        }

        if (evidence.TreatmentRequests < minimum || evidence.ControlRequests < minimum)
        {
            var counts = $"{Definition.Treatment} {Whole(evidence.TreatmentRequests)}, {Definition.Control} {Whole(evidence.ControlRequests)} requests of the {minimum.ToString(CultureInfo.InvariantCulture)} each cohort needs, {Span(since, evidence.Window)}";

            // Inside a stage whose bake still runs, too few requests is "not yet": the rollout waits for them. At the end
            // of the bake, or outside a rollout, it is no data, and the no-data policy decides.
            var collecting = context.BakeDueAt is { } due && evaluatedAt < due;
            var result = collecting
                ? baseline with { Status = GuardrailStatus.Pending, Counted = false, Reason = $"collecting evidence: {counts}" }
                : baseline with { Status = GuardrailStatus.NoData, Counted = false, Reason = $"too few requests to compare: {counts}" };
            return Finish(result with { Warnings = warnings, Cohort = evidence with { Concluded = false } }, started);
        }

        var series = new GuardrailSeries
        {
            Labels = new Dictionary<string, string>(StringComparer.Ordinal) { [Definition.VariantLabel] = Definition.Treatment },
            RawValue = measured.Statistic.ToString("R", CultureInfo.InvariantCulture),
            Value = measured.Statistic,
            ConditionMet = measured.Concluded,
        };
        return Finish(baseline with { Series = new[] { series }, Reason = evidence.Summary, Warnings = warnings, Cohort = evidence }, started);
    }

    public override string ToString() => Definition.ToString();

    private GuardrailResult Finish(GuardrailResult raw, long started)
        => ForDurationTracker.Track(raw with { Latency = time.GetElapsedTime(started) }, null);

    private (string ErrorId, string Message)? Unlabelled(PrometheusAnswer answer, string what, string query)
    {
        var bare = answer.Samples.FirstOrDefault(s => !s.Labels.ContainsKey(Definition.VariantLabel));
        return bare is null
            ? null
            : ("CohortVariantLabelMissing", $"Cohort guardrail '{Definition.Name}': the {what} query returned a series without the label '{Definition.VariantLabel}' ({bare.Key}), so the cohorts cannot be told apart. Group it by the variant label, e.g. sum by ({Definition.VariantLabel}) (...), or pass the label your exporter uses with -VariantLabel. Query: {query}");
    }

    private (string ErrorId, string Message)? UnknownVariants(IEnumerable<string> seen)
    {
        var variants = seen.OrderBy(v => v, StringComparer.Ordinal).ToArray();
        var unknown = variants.Where(v => v != Definition.Treatment && v != Definition.Control).ToArray();
        if (unknown.Length == 0)
        {
            // Only the control seen is a flag not yet exposed, not a misnamed variant.
            return null;
        }

        var list = string.Join(", ", variants.Select(v => $"'{v}'"));
        if (!variants.Contains(Definition.Treatment))
        {
            return ("CohortTreatmentNotFound", $"Cohort guardrail '{Definition.Name}': the treatment variant '{Definition.Treatment}' never appears in '{Definition.VariantLabel}', which carries {list}. Pass the value exposed requests carry with -Treatment.");
        }

        if (!variants.Contains(Definition.Control))
        {
            return ("CohortControlNotFound", $"Cohort guardrail '{Definition.Name}': the control variant '{Definition.Control}' never appears in '{Definition.VariantLabel}', which carries {list}. Pass the value unexposed requests carry with -Control.");
        }

        // Both cohorts are there; a third variant (a multivariate flag) is simply not compared.
        return null;
    }

    private Dictionary<string, double> PerVariant(PrometheusAnswer answer)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in answer.Samples)
        {
            var variant = sample.Labels[Definition.VariantLabel];
            var value = double.IsFinite(sample.Value) ? Math.Max(0, sample.Value) : 0;
            sums[variant] = sums.GetValueOrDefault(variant) + value;
        }

        return sums;
    }

    private static string Whole(double count) => Math.Floor(count).ToString("0", CultureInfo.InvariantCulture);

    private static string Span(DateTimeOffset? since, TimeSpan window)
        => since is { } s ? $"since the stage started at {s.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}" : $"in the last {GuardrailResult.Duration(window)}";
}
