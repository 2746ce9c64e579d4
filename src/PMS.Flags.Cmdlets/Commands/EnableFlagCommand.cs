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

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        Change(store, BuildMutation(store, FlagChangeKind.TurnOn), Force);
    }
}
