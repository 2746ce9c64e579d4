using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Set, "FlagPercentage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FlagChangeRecord))]
public sealed class SetFlagPercentageCommand : FlagChangeCommandBase
{
    [Parameter(Mandatory = true, Position = 1)]
    public double Percentage { get; set; }

    [Parameter]
    public string? Rule { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Change a protected environment although the flag's checklist does not pass; recorded as readiness_overridden with -Reason.</summary>
    [Parameter]
    public SwitchParameter OverrideReadiness { get; set; }

    protected override void ProcessFlagRecord()
    {
        var percentage = FlagPercentage.Validate(Percentage);
        var store = ResolveStore(Store);
        Change(store, BuildMutation(store, FlagChangeKind.SetPercentage, percentage, Rule), Force);
    }
}
