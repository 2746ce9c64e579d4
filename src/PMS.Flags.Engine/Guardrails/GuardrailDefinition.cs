using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Everything needed to rebuild a guardrail, and nothing secret: a rollout stores its guardrails' definitions in its
/// <c>rollout_started</c> event, and any other process rebuilds the same checks from the ledger alone. URLs with
/// credentials in them are refused for that reason.
/// </summary>
public sealed class GuardrailDefinition
{
    public const string PrometheusKind = "Prometheus";
    public const string HttpHealthKind = "HttpHealth";
    public const string CohortKind = "Cohort";
    public const string DeploymentKind = "Deployment";
    public const string AlertmanagerKind = "Alertmanager";

    public required string Kind { get; init; }

    public required string Name { get; init; }

    /// <summary>The preset this was made from (HighErrorRate, SlowResponseTime), for the record; null for custom ones.</summary>
    public string? Preset { get; init; }

    public GuardrailSeverity Severity { get; init; } = GuardrailSeverity.Critical;

    public NoDataPolicy NoData { get; init; } = NoDataPolicy.Pause;

    /// <summary>How long the condition must hold across consecutive evaluations before it breaches (Prometheus' <c>for</c>).</summary>
    public TimeSpan For { get; init; }

    public Uri? PrometheusUrl { get; init; }

    /// <summary>The PromQL whose value is compared: the alert expression's left-hand side, so no-data can be told from healthy.</summary>
    public string? Query { get; init; }

    public GuardrailOperator Operator { get; init; } = GuardrailOperator.GreaterThan;

    /// <summary>Prometheus: the value compared against. HttpHealth: the highest acceptable latency in seconds (optional).</summary>
    public double? Threshold { get; init; }

    /// <summary>Optional: a query for the traffic (e.g. requests per second); below <see cref="MinimumTraffic"/> the check does not count.</summary>
    public string? MinimumTrafficQuery { get; init; }

    public double? MinimumTraffic { get; init; }

    public Uri? HealthUrl { get; init; }

    /// <summary>Cohort: the flag whose variants are compared; null until a rollout binds its own flag (<see cref="BoundTo"/>).</summary>
    public string? Flag { get; init; }

    /// <summary>Cohort: the label carrying the flag key (OpenTelemetry's <c>feature_flag.key</c> as Prometheus spells it).</summary>
    public string FlagLabel { get; init; } = CohortQueries.DefaultFlagLabel;

    /// <summary>Cohort: the label carrying the variant each request got (<c>feature_flag.result.variant</c>).</summary>
    public string VariantLabel { get; init; } = CohortQueries.DefaultVariantLabel;

    /// <summary>Cohort: the variant exposed users get.</summary>
    public string Treatment { get; init; } = "true";

    /// <summary>Cohort: the variant everyone else gets.</summary>
    public string Control { get; init; } = "false";

    /// <summary>Cohort: the look-back of an evaluation outside a rollout stage (Test-FlagGuardrail, the check before a rollout starts).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Cohort: the relative regression the test is tuned to detect (0.5 = the exposed cohort's bad rate 50 % above control).</summary>
    public double MinimumRelativeRegression { get; init; } = 0.5;

    /// <summary>Cohort: the chance of a breach when the exposed cohort is no worse than control, however often it is looked at.</summary>
    public double FalseAlarmRate { get; init; } = 0.05;

    /// <summary>Cohort: the requests each cohort needs before the test may conclude anything.</summary>
    public long MinimumSamples { get; init; } = 500;

    /// <summary>Cohort, custom form: PromQL for bad requests per variant (<c>$window</c> and <c>$flag</c> are filled in).</summary>
    public string? BadQuery { get; init; }

    /// <summary>Cohort, custom form: PromQL for all requests per variant.</summary>
    public string? TotalQuery { get; init; }
    /// <summary>Deployment guardrail: the namespace, deployment, kubeconfig path and context (no credentials: a path).</summary>
    public string? Namespace { get; init; }

    public string? Deployment { get; init; }

    public string? KubeConfig { get; init; }

    public string? KubeContext { get; init; }

    /// <summary>Alertmanager guardrail: the Alertmanager whose firing alerts are read (<c>GET /api/v2/alerts</c>).</summary>
    public Uri? AlertmanagerUrl { get; init; }

    /// <summary>Alertmanager guardrail: the alert (its <c>alertname</c> label) that breaches the guardrail while it fires.</summary>
    public string? AlertName { get; init; }

    /// <summary>Alertmanager guardrail: further label equalities an alert must carry (e.g. service=pms-api), sorted by name.</summary>
    public IReadOnlyDictionary<string, string> Matchers { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The alert expression this guardrail stands for, as a Prometheus rule would write it; for the presets exactly the
    /// playbook's <c>expr</c>.
    /// </summary>
    public string Expression => Kind switch
    {
        HttpHealthKind => $"GET {HealthUrl} -> 2xx{(Threshold is { } t ? $" within {GuardrailResult.Number(t)}s" : "")}",
        CohortKind => CohortQueries.Describe(this),
        DeploymentKind => $"deployment {Namespace}/{Deployment}: every pod ready, no container restarted",
        AlertmanagerKind => $"ALERTS{{{string.Join(", ", new[] { $"alertname=\"{AlertName}\"" }.Concat(Matchers.Select(m => $"{m.Key}=\"{m.Value}\"")))}}} firing in Alertmanager {AlertmanagerUrl?.Authority}",
        _ => $"{Query} {Operator.Symbol()} {(Threshold is { } threshold ? GuardrailResult.Number(threshold) : "?")}",
    };

    public static GuardrailDefinition ForPrometheus(string name, Uri prometheusUrl, string query, GuardrailOperator op, double threshold, TimeSpan forDuration, GuardrailSeverity severity, NoDataPolicy noData = NoDataPolicy.Pause, string? minimumTrafficQuery = null, double? minimumTraffic = null)
    {
        var definition = new GuardrailDefinition
        {
            Kind = PrometheusKind,
            Name = name,
            PrometheusUrl = prometheusUrl,
            Query = query,
            Operator = op,
            Threshold = threshold,
            For = forDuration,
            Severity = severity,
            NoData = noData,
            MinimumTrafficQuery = minimumTrafficQuery,
            MinimumTraffic = minimumTraffic,
        };
        definition.Validate();
        return definition;
    }

    public static GuardrailDefinition ForHttpHealth(Uri healthUrl, string? name = null, double? maximumLatencySeconds = null, TimeSpan? forDuration = null, GuardrailSeverity severity = GuardrailSeverity.Critical, NoDataPolicy noData = NoDataPolicy.Pause)
    {
        var definition = new GuardrailDefinition
        {
            Kind = HttpHealthKind,
            Name = string.IsNullOrWhiteSpace(name) ? $"Health {healthUrl.Authority}{healthUrl.AbsolutePath}" : name,
            HealthUrl = healthUrl,
            Operator = GuardrailOperator.GreaterThan,
            Threshold = maximumLatencySeconds,
            For = forDuration ?? TimeSpan.Zero,
            Severity = severity,
            NoData = noData,
        };
        definition.Validate();
        return definition;
    }

    /// <summary>
    /// A cohort guardrail: compares the exposed cohort (<paramref name="treatment"/>) with the rest (<paramref name="control"/>)
    /// by a sequential test, from one of <see cref="CohortQueries.Metrics"/> or from custom per-variant queries.
    /// </summary>
    public static GuardrailDefinition ForCohort(
        Uri prometheusUrl,
        string? metric,
        string? name = null,
        string? flag = null,
        string? badQuery = null,
        string? totalQuery = null,
        string flagLabel = CohortQueries.DefaultFlagLabel,
        string variantLabel = CohortQueries.DefaultVariantLabel,
        string treatment = "true",
        string control = "false",
        TimeSpan? window = null,
        double minimumRelativeRegression = 0.5,
        double falseAlarmRate = 0.05,
        long minimumSamples = 500,
        GuardrailSeverity severity = GuardrailSeverity.Critical,
        NoDataPolicy noData = NoDataPolicy.Pause)
    {
        var canonical = metric is null ? null : CohortQueries.Metrics.FirstOrDefault(m => string.Equals(m, metric.Trim(), StringComparison.OrdinalIgnoreCase)) ?? metric;
        var definition = new GuardrailDefinition
        {
            Kind = CohortKind,
            Name = string.IsNullOrWhiteSpace(name) ? canonical ?? "" : name,
            Preset = canonical,
            PrometheusUrl = prometheusUrl,
            Flag = flag,
            BadQuery = canonical is null ? badQuery : null,
            TotalQuery = canonical is null ? totalQuery : null,
            FlagLabel = flagLabel,
            VariantLabel = variantLabel,
            Treatment = treatment,
            Control = control,
            Window = window ?? TimeSpan.FromMinutes(5),
            MinimumRelativeRegression = minimumRelativeRegression,
            FalseAlarmRate = falseAlarmRate,
            MinimumSamples = minimumSamples,
            Operator = GuardrailOperator.GreaterOrEqual,
            Severity = severity,
            NoData = noData,
        };
        definition.Validate();
        return definition;
    }

    public static GuardrailDefinition ForDeployment(string ns, string deployment, string? kubeConfig = null, string? kubeContext = null, string? name = null, TimeSpan? forDuration = null, GuardrailSeverity severity = GuardrailSeverity.Critical, NoDataPolicy noData = NoDataPolicy.Pause)
    {
        var definition = new GuardrailDefinition
        {
            Kind = DeploymentKind,
            Name = string.IsNullOrWhiteSpace(name) ? $"Deployment {ns}/{deployment}" : name,
            Namespace = ns,
            Deployment = deployment,
            KubeConfig = kubeConfig,
            KubeContext = kubeContext,
            Operator = GuardrailOperator.GreaterThan,
            Threshold = 0,
            For = forDuration ?? TimeSpan.Zero,
            Severity = severity,
            NoData = noData,
        };
        definition.Validate();
        return definition;
    }

    /// <summary>
    /// An Alertmanager guardrail: breaches while the named alert (and every matcher) is active in Alertmanager, so a
    /// team's existing alert rules guard a rollout without restating their PromQL.
    /// </summary>
    public static GuardrailDefinition ForAlertmanager(Uri alertmanagerUrl, string alertName, IReadOnlyDictionary<string, string>? matchers = null, string? name = null, TimeSpan? forDuration = null, GuardrailSeverity severity = GuardrailSeverity.Critical, NoDataPolicy noData = NoDataPolicy.Pause)
    {
        var definition = new GuardrailDefinition
        {
            Kind = AlertmanagerKind,
            // Named after its alert; a blank alert name is reported as such by Validate, not as a missing guardrail name.
            Name = !string.IsNullOrWhiteSpace(name) ? name : string.IsNullOrWhiteSpace(alertName) ? AlertmanagerKind : alertName,
            AlertmanagerUrl = alertmanagerUrl,
            AlertName = alertName,
            Matchers = new SortedDictionary<string, string>(matchers?.ToDictionary(m => m.Key, m => m.Value) ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            Operator = GuardrailOperator.GreaterThan,
            Threshold = 0,
            For = forDuration ?? TimeSpan.Zero,
            Severity = severity,
            NoData = noData,
        };
        definition.Validate();
        return definition;
    }

    /// <summary>Throws a FlagsException with a stable ErrorId for the first thing wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw Invalid("GuardrailNameRequired", "A guardrail needs a name; it identifies the guardrail in every evaluation event.");
        }

        if (For < TimeSpan.Zero)
        {
            throw Invalid("GuardrailForNegative", $"Guardrail '{Name}': For must be zero or more; got {For}.");
        }

        if (!Enum.IsDefined(Severity) || !Enum.IsDefined(NoData) || !Enum.IsDefined(Operator))
        {
            throw Invalid("GuardrailDefinitionInvalid", $"Guardrail '{Name}' has an unknown severity, operator or no-data policy.");
        }

        switch (Kind)
        {
            case PrometheusKind:
                RequireUrl(PrometheusUrl, "PrometheusUrl");
                if (string.IsNullOrWhiteSpace(Query))
                {
                    throw Invalid("GuardrailQueryRequired", $"Guardrail '{Name}' needs a PromQL query.");
                }

                if (Threshold is not { } threshold || !double.IsFinite(threshold))
                {
                    throw Invalid("GuardrailThresholdInvalid", $"Guardrail '{Name}' needs a finite threshold.");
                }

                if ((MinimumTrafficQuery is null) != (MinimumTraffic is null) || (MinimumTrafficQuery is not null && string.IsNullOrWhiteSpace(MinimumTrafficQuery)))
                {
                    throw Invalid("GuardrailMinimumTrafficInvalid", $"Guardrail '{Name}': a minimum-traffic query and a minimum-traffic value go together.");
                }

                if (MinimumTraffic is { } minimum && (!double.IsFinite(minimum) || minimum < 0))
                {
                    throw Invalid("GuardrailMinimumTrafficInvalid", $"Guardrail '{Name}': the minimum traffic must be a finite number of zero or more.");
                }

                break;
            case HttpHealthKind:
                RequireUrl(HealthUrl, "HealthUrl");
                if (Threshold is { } latency && (!double.IsFinite(latency) || latency <= 0))
                {
                    throw Invalid("GuardrailThresholdInvalid", $"Guardrail '{Name}': the latency threshold must be a positive number of seconds.");
                }

                break;
            case CohortKind:
                RequireUrl(PrometheusUrl, "PrometheusUrl");
                ValidateCohort();
                break;
            case DeploymentKind:
                if (string.IsNullOrWhiteSpace(Namespace) || string.IsNullOrWhiteSpace(Deployment))
                {
                    throw Invalid("GuardrailDeploymentRequired", $"Guardrail '{Name}' needs a namespace and a deployment.");
                }

                break;
            case AlertmanagerKind:
                RequireUrl(AlertmanagerUrl, "AlertmanagerUrl");
                if (string.IsNullOrWhiteSpace(AlertName))
                {
                    throw Invalid("GuardrailAlertNameRequired", $"Guardrail '{Name}' needs the name of the alert to watch.");
                }

                // alertname is -AlertName's; a matcher on it too would make the guardrail watch an alert it does not name.
                var badLabel = Matchers.Keys.FirstOrDefault(label => !CohortQueries.IsLabelName(label) || label == "alertname");
                if (badLabel is not null)
                {
                    throw Invalid("GuardrailMatcherInvalid", $"Guardrail '{Name}': '{badLabel}' is not a usable matcher label (a Prometheus label name other than alertname, which -AlertName sets).");
                }

                break;
            default:
                throw Invalid("GuardrailKindUnknown", $"Guardrail '{Name}' has kind '{Kind}'; known kinds: {PrometheusKind}, {HttpHealthKind}, {CohortKind}, {DeploymentKind}, {AlertmanagerKind}.");
        }
    }

    public JObject ToJson()
    {
        var o = new JObject
        {
            ["kind"] = Kind,
            ["name"] = Name,
            ["preset"] = Preset,
            ["severity"] = Severity.ToString(),
            ["no_data"] = NoData.ToString(),
            ["for"] = GuardrailJson.Span(For),
            ["operator"] = Operator.ToString(),
            ["threshold"] = GuardrailJson.Number(Threshold),
            ["expression"] = Expression,
        };
        if (Kind == DeploymentKind)
        {
            o["namespace"] = Namespace;
            o["deployment"] = Deployment;
            o["kubeconfig"] = KubeConfig;
            o["kube_context"] = KubeContext;
        }
        else if (Kind == AlertmanagerKind)
        {
            o["alertmanager_url"] = AlertmanagerUrl?.AbsoluteUri;
            o["alert_name"] = AlertName;
            o["matchers"] = new JObject(Matchers.Select(m => new JProperty(m.Key, m.Value)));
        }
        else if (Kind == HttpHealthKind)
        {
            o["health_url"] = HealthUrl?.AbsoluteUri;
        }
        else if (Kind == CohortKind)
        {
            o["prometheus_url"] = PrometheusUrl?.AbsoluteUri;
            o["flag"] = Flag;
            o["flag_label"] = FlagLabel;
            o["variant_label"] = VariantLabel;
            o["treatment"] = Treatment;
            o["control"] = Control;
            o["window"] = GuardrailJson.Span(Window);
            o["minimum_relative_regression"] = GuardrailJson.Number(MinimumRelativeRegression);
            o["false_alarm_rate"] = GuardrailJson.Number(FalseAlarmRate);
            o["minimum_samples"] = MinimumSamples;
            o["bad_query"] = BadQuery;
            o["total_query"] = TotalQuery;
        }
        else
        {
            o["prometheus_url"] = PrometheusUrl?.AbsoluteUri;
            o["query"] = Query;
            o["minimum_traffic_query"] = MinimumTrafficQuery;
            o["minimum_traffic"] = GuardrailJson.Number(MinimumTraffic);
        }

        return o;
    }

    public string ToJsonString() => ToJson().ToString(Formatting.None);

    /// <summary>Rebuilds and validates a definition; GuardrailDefinitionInvalid when the JSON is not one.</summary>
    public static GuardrailDefinition FromJson(JObject o)
    {
        GuardrailDefinition definition;
        try
        {
            definition = new GuardrailDefinition
            {
                Kind = (string?)o["kind"] ?? "",
                Name = (string?)o["name"] ?? "",
                Preset = (string?)o["preset"],
                Severity = StrictEnum<GuardrailSeverity>(o["severity"], GuardrailSeverity.Critical),
                NoData = StrictEnum<NoDataPolicy>(o["no_data"], NoDataPolicy.Pause),
                For = GuardrailJson.ReadSpan(o["for"]) ?? TimeSpan.Zero,
                Operator = StrictEnum<GuardrailOperator>(o["operator"], GuardrailOperator.GreaterThan),
                Threshold = GuardrailJson.ReadDouble(o["threshold"]),
                PrometheusUrl = ReadUri(o["prometheus_url"]),
                Query = (string?)o["query"],
                MinimumTrafficQuery = (string?)o["minimum_traffic_query"],
                MinimumTraffic = GuardrailJson.ReadDouble(o["minimum_traffic"]),
                HealthUrl = ReadUri(o["health_url"]),
                Flag = (string?)o["flag"],
                FlagLabel = (string?)o["flag_label"] ?? CohortQueries.DefaultFlagLabel,
                VariantLabel = (string?)o["variant_label"] ?? CohortQueries.DefaultVariantLabel,
                Treatment = (string?)o["treatment"] ?? "true",
                Control = (string?)o["control"] ?? "false",
                Window = GuardrailJson.ReadSpan(o["window"]) ?? TimeSpan.FromMinutes(5),
                MinimumRelativeRegression = GuardrailJson.ReadDouble(o["minimum_relative_regression"]) ?? 0.5,
                FalseAlarmRate = GuardrailJson.ReadDouble(o["false_alarm_rate"]) ?? 0.05,
                MinimumSamples = (long?)o["minimum_samples"] ?? 500,
                BadQuery = (string?)o["bad_query"],
                TotalQuery = (string?)o["total_query"],
                Namespace = (string?)o["namespace"],
                Deployment = (string?)o["deployment"],
                KubeConfig = (string?)o["kubeconfig"],
                KubeContext = (string?)o["kube_context"],
                AlertmanagerUrl = ReadUri(o["alertmanager_url"]),
                AlertName = (string?)o["alert_name"],
                Matchers = new SortedDictionary<string, string>((o["matchers"] as JObject)?.Properties().ToDictionary(p => p.Name, p => (string?)p.Value ?? "") ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            };
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidCastException or OverflowException or UriFormatException)
        {
            throw Invalid("GuardrailDefinitionInvalid", $"A stored guardrail definition cannot be read ({ex.Message}).", ex);
        }

        definition.Validate();
        return definition;
    }

    public static GuardrailDefinition Parse(string json)
    {
        try
        {
            return FromJson(JObject.Parse(json));
        }
        catch (JsonException ex)
        {
            throw Invalid("GuardrailDefinitionInvalid", $"A guardrail definition is not JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// A cohort guardrail without a flag, given the flag of the rollout it guards; every other definition (and a cohort
    /// guardrail that names its flag) is returned as it is. A rollout binds its plan's guardrails this way, so the
    /// stored plan says which flag's cohorts were compared and Test-FlagGuardrail can re-run them.
    /// </summary>
    public GuardrailDefinition BoundTo(string? flag)
    {
        if (Kind != CohortKind || !string.IsNullOrWhiteSpace(Flag) || string.IsNullOrWhiteSpace(flag))
        {
            return this;
        }

        return new GuardrailDefinition
        {
            Kind = Kind, Name = Name, Preset = Preset, Severity = Severity, NoData = NoData, For = For, PrometheusUrl = PrometheusUrl,
            Query = Query, Operator = Operator, Threshold = Threshold, MinimumTrafficQuery = MinimumTrafficQuery, MinimumTraffic = MinimumTraffic,
            HealthUrl = HealthUrl, Flag = flag, FlagLabel = FlagLabel, VariantLabel = VariantLabel, Treatment = Treatment, Control = Control,
            Window = Window, MinimumRelativeRegression = MinimumRelativeRegression, FalseAlarmRate = FalseAlarmRate, MinimumSamples = MinimumSamples,
            BadQuery = BadQuery, TotalQuery = TotalQuery,
        };
    }

    public override string ToString() => $"{Name} [{Severity}] {Expression}{(For > TimeSpan.Zero ? $" for {GuardrailResult.Duration(For)}" : "")}";

    private void ValidateCohort()
    {
        if (For != TimeSpan.Zero)
        {
            throw Invalid("GuardrailDefinitionInvalid", $"Guardrail '{Name}': a cohort guardrail has no For duration; its sequential test already decides when the evidence suffices.");
        }

        if (Preset is null)
        {
            if (string.IsNullOrWhiteSpace(BadQuery) || string.IsNullOrWhiteSpace(TotalQuery))
            {
                throw Invalid("CohortQueryRequired", $"Cohort guardrail '{Name}' needs both a bad-request query and a total-request query, each grouped by the variant label.");
            }
        }
        else if (!CohortQueries.Metrics.Contains(Preset, StringComparer.Ordinal))
        {
            throw Invalid("CohortMetricUnknown", $"There is no cohort metric '{Preset}'. Cohort metrics: {string.Join(", ", CohortQueries.Metrics)}.");
        }

        if (!double.IsFinite(FalseAlarmRate) || FalseAlarmRate <= 0 || FalseAlarmRate > 0.5)
        {
            throw Invalid("GuardrailFalseAlarmRateInvalid", $"Guardrail '{Name}': the false-alarm rate must be above 0 and at most 0.5; got {GuardrailResult.Number(FalseAlarmRate)}.");
        }

        if (!double.IsFinite(MinimumRelativeRegression) || MinimumRelativeRegression <= 0 || MinimumRelativeRegression > 100)
        {
            throw Invalid("GuardrailMinimumRegressionInvalid", $"Guardrail '{Name}': the minimum relative regression must be above 0 (0.5 means 50 % worse than control) and at most 100; got {GuardrailResult.Number(MinimumRelativeRegression)}.");
        }

        if (MinimumSamples < 1)
        {
            throw Invalid("GuardrailMinimumSamplesInvalid", $"Guardrail '{Name}': each cohort needs at least 1 request before the test may conclude; got {MinimumSamples}.");
        }

        if (Window < TimeSpan.FromSeconds(1))
        {
            throw Invalid("GuardrailWindowInvalid", $"Guardrail '{Name}': the window must be at least one second; got {Window}.");
        }

        foreach (var (label, what) in new[] { (FlagLabel, "flag label"), (VariantLabel, "variant label") })
        {
            if (!CohortQueries.IsLabelName(label))
            {
                throw Invalid("CohortLabelInvalid", $"Guardrail '{Name}': '{label}' is not a Prometheus label name (letters, digits and underscores, not starting with a digit) for the {what}. OpenTelemetry's dotted names are spelled with underscores by the Prometheus exporter.");
            }
        }

        if (string.IsNullOrEmpty(Treatment) || string.IsNullOrEmpty(Control) || Treatment == Control)
        {
            throw Invalid("CohortVariantsInvalid", $"Guardrail '{Name}': the treatment and control variants must be two different, non-empty values; got '{Treatment}' and '{Control}'.");
        }

        if (Flag is not null && string.IsNullOrWhiteSpace(Flag))
        {
            throw Invalid("CohortFlagRequired", $"Guardrail '{Name}': the flag key is empty.");
        }
    }

    private void RequireUrl(Uri? url, string what)
    {
        if (url is null || !url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid("GuardrailUrlInvalid", $"Guardrail '{Name}' needs an absolute http(s) {what}.");
        }

        // The definition is stored in the ledger; a password in the URL would end up there.
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw Invalid("GuardrailUrlInvalid", $"Guardrail '{Name}': the {what} carries credentials; they would be written to the audit ledger. Use a URL without user information.");
        }

        // A token in the query string would be written to the ledger (rollout_started, every evaluation) just the same.
        var secretParameter = url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => Uri.UnescapeDataString(pair.Split('=', 2)[0]).ToLowerInvariant())
            .FirstOrDefault(IsCredentialParameter);
        if (secretParameter is not null)
        {
            throw Invalid("GuardrailUrlInvalid", $"Guardrail '{Name}': the {what} carries a credential in its query ('{secretParameter}'); it would be written to the audit ledger. Put the endpoint behind a proxy or network policy instead of a token in the URL.");
        }
    }

    private static readonly string[] CredentialWords = { "token", "key", "password", "passwd", "pwd", "secret", "auth", "signature", "sig", "credential", "session" };

    private static bool IsCredentialParameter(string name)
        => name.EndsWith("key", StringComparison.Ordinal) || CredentialWords.Any(word => name == word || name.Contains(word, StringComparison.Ordinal) && word.Length > 3);

    private static Uri? ReadUri(JToken? token)
        => token is null || token.Type == JTokenType.Null ? null : new Uri((string)token!, UriKind.Absolute);

    private static T StrictEnum<T>(JToken? token, T missing)
        where T : struct, Enum
    {
        if (token is null || token.Type == JTokenType.Null)
        {
            return missing;
        }

        return Enum.TryParse<T>((string?)token, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"'{token}' is not a {typeof(T).Name}");
    }

    private static FlagsException Invalid(string errorId, string message, Exception? inner = null)
        => new(errorId, FlagsErrorKind.InvalidArgument, message, null, inner);
}
