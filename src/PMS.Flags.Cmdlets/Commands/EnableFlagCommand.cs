using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Enable, "Flag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(FlagChangeRecord))]
public sealed class EnableFlagCommand : FlagChangeCommandBase
{
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Change a protected environment although the flag's checklist does not pass; recorded as readiness_overridden with -Reason.</summary>
    [Parameter]
    public SwitchParameter OverrideReadiness { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var environment = ResolveEnvironment(Environment, store);
        var ledger = ResolveLedger(Ledger);
        var restored = Run((log, ct) => Task.FromResult(new FlagOperations(store, AuditTrailFor(ledger, log.Engine)).LastOnPercentage(Flag, environment, ct)));
        WriteVerbose(restored is { } p
            ? $"The ledger says {Flag} was last on at {FlagPercentage.Format(p)}% in {environment}: restoring that."
            : $"The ledger has no percentage for {Flag} in {environment}: switching it on at the document's percentage (100% for a plain false).");
        Change(store, BuildMutation(store, FlagChangeKind.TurnOn, restored), Force);
    }
}
