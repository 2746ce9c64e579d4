using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsLifecycle.Disable, "Flag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(FlagChangeRecord))]
public sealed class DisableFlagCommand : FlagChangeCommandBase
{
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        Change(store, BuildMutation(store, FlagChangeKind.TurnOff), Force);
    }
}
