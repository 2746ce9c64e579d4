using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Guardrails;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.New, "FlagGuardrail", DefaultParameterSetName = PresetSet)]
[OutputType(typeof(GuardrailDefinition))]
public sealed class NewFlagGuardrailCommand : FlagCmdletBase
{
    private const string PresetSet = "Preset";
    private const string CustomSet = "Custom";
    private const string HealthSet = "Health";
    private const string CohortSet = "Cohort";
    private const string CohortCustomSet = "CohortCustom";
    private const string DeploymentSet = "Deployment";
    private const string AlertmanagerSet = "Alertmanager";

    // Preset and Cohort stay strings: they name factory methods, not an engine enum. Severity and NoData are the
    // engine's enums (the loader nested module resolves the engine before PowerShell scans this assembly); their
    // ValidateSet keeps the completion and the accepted names exactly as they were.
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PresetSet)]
    [ValidateSet("HighErrorRate", "SlowResponseTime")]
    public string Preset { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CohortSet)]
    [ValidateSet("CohortErrorRate", "CohortSlowRequests")]
    public string Cohort { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = PresetSet)]
    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [Parameter(Mandatory = true, ParameterSetName = CohortSet)]
    [Parameter(Mandatory = true, ParameterSetName = CohortCustomSet)]
    public Uri? PrometheusUrl { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [Parameter(Mandatory = true, ParameterSetName = CohortCustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    [Parameter(ParameterSetName = AlertmanagerSet)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [ValidateNotNullOrEmpty]
    public string Query { get; set; } = "";

    // The playbook's notation (>, >=, <, <=) or a name; parsed by the engine so a bad one gets GuardrailOperatorInvalid.
    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [ArgumentCompleter(typeof(GuardrailOperatorCompleter))]
    public string Operator { get; set; } = "GreaterThan";

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    public double Threshold { get; set; }

    [Parameter(ParameterSetName = CustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    [Parameter(ParameterSetName = AlertmanagerSet)]
    public TimeSpan For { get; set; } = TimeSpan.Zero;

    [Parameter(ParameterSetName = CustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    [Parameter(ParameterSetName = AlertmanagerSet)]
    [ValidateSet("Critical", "Warning")]
    public GuardrailSeverity Severity { get; set; } = GuardrailSeverity.Critical;

    [Parameter(Mandatory = true, ParameterSetName = HealthSet)]
    public Uri? HealthUrl { get; set; }

    [Parameter(ParameterSetName = HealthSet)]
    public double? MaximumLatencySeconds { get; set; }

    // The deployment guardrail (Kubernetes): every pod ready, no container restarted since the stage began.
    [Parameter(Mandatory = true, ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    public string? Deployment { get; set; }

    [Parameter(ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = "pms";

    [Parameter(ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    [Parameter(ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    public string? KubeContext { get; set; }

    // The Alertmanager guardrail: breaches while that alert fires there, so existing alert rules guard a rollout.
    [Parameter(Mandatory = true, ParameterSetName = AlertmanagerSet)]
    public Uri? AlertmanagerUrl { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = AlertmanagerSet)]
    [ValidateNotNullOrEmpty]
    public string? AlertName { get; set; }

    [Parameter(ParameterSetName = AlertmanagerSet)]
    public System.Collections.Hashtable? Matcher { get; set; }

    [Parameter]
    [ValidateSet("Pause", "Fail", "Pass")]
    public NoDataPolicy NoData { get; set; } = NoDataPolicy.Pause;

    [Parameter(ParameterSetName = PresetSet)]
    [Parameter(ParameterSetName = CustomSet)]
    public string? MinimumTrafficQuery { get; set; }

    [Parameter(ParameterSetName = PresetSet)]
    [Parameter(ParameterSetName = CustomSet)]
    public double? MinimumTraffic { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CohortCustomSet)]
    [ValidateNotNullOrEmpty]
    public string BadQuery { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CohortCustomSet)]
    [ValidateNotNullOrEmpty]
    public string TotalQuery { get; set; } = "";

    [Parameter(ParameterSetName = CohortSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = CohortCustomSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Flag { get; set; }

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public string FlagLabel { get; set; } = "feature_flag_key";

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public string VariantLabel { get; set; } = "feature_flag_result_variant";

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public string Treatment { get; set; } = "true";

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public string Control { get; set; } = "false";

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public double MinimumRelativeRegression { get; set; } = 0.5;

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public double FalseAlarmRate { get; set; } = 0.05;

    [Parameter(ParameterSetName = CohortSet)]
    [Parameter(ParameterSetName = CohortCustomSet)]
    public long MinimumSamples { get; set; } = 500;

    protected override void ProcessFlagRecord()
    {
        var noData = NoData;
        var severity = Severity;
        var definition = ParameterSetName switch
        {
            AlertmanagerSet => GuardrailDefinition.ForAlertmanager(AlertmanagerUrl!, AlertName!, Matchers(), Name, For, severity, noData),
            PresetSet => GuardrailPresets.Create(Preset, PrometheusUrl!, noData, MinimumTrafficQuery, MinimumTraffic),
            DeploymentSet => GuardrailDefinition.ForDeployment(Namespace, Deployment!, KubeConfig is null ? null : ResolvePath(KubeConfig), KubeContext, Name, For, severity, noData),
            CustomSet => GuardrailDefinition.ForPrometheus(Name!, PrometheusUrl!, Query, GuardrailOperators.Parse(Operator), Threshold, For, severity, noData, MinimumTrafficQuery, MinimumTraffic),
            CohortSet or CohortCustomSet => GuardrailDefinition.ForCohort(
                PrometheusUrl!,
                ParameterSetName == CohortSet ? Cohort : null,
                Name,
                Flag,
                ParameterSetName == CohortCustomSet ? BadQuery : null,
                ParameterSetName == CohortCustomSet ? TotalQuery : null,
                FlagLabel,
                VariantLabel,
                Treatment,
                Control,
                Window,
                MinimumRelativeRegression,
                FalseAlarmRate,
                MinimumSamples,
                severity,
                noData),
            _ => GuardrailDefinition.ForHttpHealth(HealthUrl!, Name, MaximumLatencySeconds, For, severity, noData),
        };
        definition.Validate();
        WriteVerbose($"Guardrail {definition}; no data means {definition.NoData}.");
        WriteObject(definition);
    }

    private Dictionary<string, string> Matchers()
        => Matcher?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "", e => Convert.ToString(e.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal)
           ?? new Dictionary<string, string>();
}
