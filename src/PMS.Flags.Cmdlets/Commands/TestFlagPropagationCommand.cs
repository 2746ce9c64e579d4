using System.Management.Automation;
using System.Net;
using System.Security;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlagPropagation")]
[OutputType(typeof(PropagationReport))]
public sealed class TestFlagPropagationCommand : KubernetesCmdletBase
{
    // No "Key" alias here, unlike the other flag cmdlets: -Key is the ConfigMap's data key.
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Environment { get; set; } = "";

    /// <summary>The application's /api/v1/feature-flags/status, normally through its Service.</summary>
    [Parameter]
    public Uri? StatusUrl { get; set; }

    [Parameter]
    public SecureString? Token { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigMap { get; set; } = "feature-flags-config";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Key { get; set; } = "feature_flags.json";

    protected override void ProcessFlagRecord()
    {
        var report = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            // The token is read out of the SecureString only for the request header; it is never written anywhere.
            var token = Token is null ? null : new NetworkCredential(string.Empty, Token).Password;
            return await operations.CheckPropagationAsync(Flag, Environment, null, false, ConfigMap, Key, StatusUrl, token, null, ct).ConfigureAwait(false);
        });
        if (report.StatusError is not null)
        {
            WriteWarning($"The status endpoint was not read: {report.StatusError}. The verdict rests on pod start times.");
        }

        WriteObject(report);
    }
}
