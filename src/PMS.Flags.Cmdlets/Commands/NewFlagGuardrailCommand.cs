using System.Management.Automation;
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
    private const string DeploymentSet = "Deployment";

    // Strings with ValidateSet rather than the engine's enums: an engine value type on a cmdlet would load the engine
    // during PowerShell's assembly scan, before the private load context exists.
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PresetSet)]
    [ValidateSet("HighErrorRate", "SlowResponseTime")]
    public string Preset { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = PresetSet)]
    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    public Uri? PrometheusUrl { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [ValidateNotNullOrEmpty]
    public string Query { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    [ValidateSet("GreaterThan", "LessThan")]
    public string Operator { get; set; } = "GreaterThan";

    [Parameter(Mandatory = true, ParameterSetName = CustomSet)]
    public double Threshold { get; set; }

    [Parameter(ParameterSetName = CustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    public TimeSpan For { get; set; } = TimeSpan.Zero;

    [Parameter(ParameterSetName = CustomSet)]
    [Parameter(ParameterSetName = HealthSet)]
    [Parameter(ParameterSetName = DeploymentSet)]
    [ValidateSet("Critical", "Warning")]
    public string Severity { get; set; } = "Critical";

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

    [Parameter]
    [ValidateSet("Pause", "Fail", "Pass")]
    public string NoData { get; set; } = "Pause";

    [Parameter(ParameterSetName = PresetSet)]
    [Parameter(ParameterSetName = CustomSet)]
    public string? MinimumTrafficQuery { get; set; }

    [Parameter(ParameterSetName = PresetSet)]
    [Parameter(ParameterSetName = CustomSet)]
    public double? MinimumTraffic { get; set; }

    protected override void ProcessFlagRecord()
    {
        var noData = Enum.Parse<NoDataPolicy>(NoData, ignoreCase: true);
        var severity = Enum.Parse<GuardrailSeverity>(Severity, ignoreCase: true);
        var definition = ParameterSetName switch
        {
            PresetSet => GuardrailPresets.Create(Preset, PrometheusUrl!, noData, MinimumTrafficQuery, MinimumTraffic),
            DeploymentSet => GuardrailDefinition.ForDeployment(Namespace, Deployment!, KubeConfig is null ? null : ResolvePath(KubeConfig), KubeContext, Name, For, severity, noData),
            CustomSet => GuardrailDefinition.ForPrometheus(Name!, PrometheusUrl!, Query, Enum.Parse<GuardrailOperator>(Operator, ignoreCase: true), Threshold, For, severity, noData, MinimumTrafficQuery, MinimumTraffic),
            _ => GuardrailDefinition.ForHttpHealth(HealthUrl!, Name, MaximumLatencySeconds, For, severity, noData),
        };
        definition.Validate();
        WriteVerbose($"Guardrail {definition}; no data means {definition.NoData}.");
        WriteObject(definition);
    }
}
