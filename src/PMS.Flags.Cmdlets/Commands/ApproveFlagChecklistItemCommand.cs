using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Approve, "FlagChecklistItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ChecklistItemStatus))]
public sealed class ApproveFlagChecklistItemCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Item { get; set; } = "";

    /// <summary>Text, a URI, or a path; for alerts-configured an alert-rule file or a Prometheus URI, which is checked.</summary>
    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Evidence { get; set; } = "";

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var ledger = ResolveLedger(Ledger);
        var environment = ResolveEnvironment(Environment, store);
        var evidence = ExistingFileOrText(Evidence);
        if (!ShouldProcess($"{Item} of the checklist of {Flag} in {environment}", $"Approve with evidence '{evidence}'"))
        {
            return;
        }

        var user = UserIdentity.Resolve(User);
        WriteObject(Run((log, ct) => new ChecklistService(store, AuditTrailFor(ledger, log.Engine)).ApproveAsync(Flag, environment, Item, evidence, user, Reason, ApprovalTicket, ct)));
    }

    /// <summary>A relative path to an existing file is recorded as its full path, so the evidence can be checked again from anywhere.</summary>
    private string ExistingFileOrText(string evidence)
    {
        if (string.IsNullOrWhiteSpace(evidence) || Uri.TryCreate(evidence, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return evidence;
        }

        try
        {
            var path = ResolvePath(evidence);
            return File.Exists(path) || Directory.Exists(path) ? path : evidence;
        }
        catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or ItemNotFoundException or PSArgumentException or NotSupportedException or ArgumentException)
        {
            return evidence;
        }
    }
}
