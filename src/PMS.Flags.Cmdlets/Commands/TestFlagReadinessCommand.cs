using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Readiness;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlagReadiness")]
[OutputType(typeof(ReadinessReport))]
public sealed class TestFlagReadinessCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    /// <summary>The plan about to be started: approvals made for a different plan are reported void.</summary>
    [Parameter]
    public object? Plan { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var ledger = ResolveLedger(Ledger);
        var environment = ResolveEnvironment(Environment, store);
        var plan = RolloutPlanArgument.ToFingerprint(Plan, Flag);
        var report = Run((log, ct) => new ChecklistService(store, AuditTrailFor(ledger, log.Engine)).EvaluateAsync(Flag, environment, plan, ct));
        if (report.PlanChanges.Count > 0)
        {
            WriteWarning($"The approvals of {Flag} in {environment} are void for this plan: {string.Join("; ", report.PlanChanges)}.");
        }

        WriteObject(report);
    }
}
