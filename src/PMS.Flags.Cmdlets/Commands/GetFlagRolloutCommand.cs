using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "FlagRollout", DefaultParameterSetName = ListSet)]
[OutputType(typeof(RolloutState))]
public sealed class GetFlagRolloutCommand : FlagCmdletBase
{
    private const string ListSet = "List";
    private const string ByIdSet = "ById";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByIdSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RolloutIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string RolloutId { get; set; } = "";

    [Parameter(ParameterSetName = ListSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    public string? Flag { get; set; }

    [Parameter(ParameterSetName = ListSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    public SwitchParameter Active { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var ledger = ResolveLedger(Ledger);
        var states = RunWithRollouts(store, ledger, async (engine, _, ct) =>
        {
            return ParameterSetName == ByIdSet
                ? new[] { await engine.GetAsync(RolloutId, ct).ConfigureAwait(false) }
                : await engine.ListAsync(Flag, Environment, Active, ct).ConfigureAwait(false);
        });
        foreach (var state in states)
        {
            WriteObject(state);
        }
    }
}
