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
    public const string DeploymentKind = "Deployment";

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

    /// <summary>Deployment guardrail: the namespace, deployment, kubeconfig path and context (no credentials: a path).</summary>
    public string? Namespace { get; init; }

    public string? Deployment { get; init; }

    public string? KubeConfig { get; init; }

    public string? KubeContext { get; init; }

    /// <summary>
    /// The alert expression this guardrail stands for, as a Prometheus rule would write it; for the presets exactly the
    /// playbook's <c>expr</c>.
    /// </summary>
    public string Expression => Kind == DeploymentKind
        ? $"deployment {Namespace}/{Deployment}: every pod ready, no container restarted"
        : Kind == HttpHealthKind
        ? $"GET {HealthUrl} -> 2xx{(Threshold is { } t ? $" within {GuardrailResult.Number(t)}s" : "")}"
        : $"{Query} {(Operator == GuardrailOperator.GreaterThan ? ">" : "<")} {(Threshold is { } threshold ? GuardrailResult.Number(threshold) : "?")}";

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
            case DeploymentKind:
                if (string.IsNullOrWhiteSpace(Namespace) || string.IsNullOrWhiteSpace(Deployment))
                {
                    throw Invalid("GuardrailDeploymentRequired", $"Guardrail '{Name}' needs a namespace and a deployment.");
                }

                break;
            default:
                throw Invalid("GuardrailKindUnknown", $"Guardrail '{Name}' has kind '{Kind}'; known kinds: {PrometheusKind}, {HttpHealthKind}, {DeploymentKind}.");
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
        else if (Kind == HttpHealthKind)
        {
            o["health_url"] = HealthUrl?.AbsoluteUri;
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
                Namespace = (string?)o["namespace"],
                Deployment = (string?)o["deployment"],
                KubeConfig = (string?)o["kubeconfig"],
                KubeContext = (string?)o["kube_context"],
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

    public override string ToString() => $"{Name} [{Severity}] {Expression}{(For > TimeSpan.Zero ? $" for {GuardrailResult.Duration(For)}" : "")}";

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
    }

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
