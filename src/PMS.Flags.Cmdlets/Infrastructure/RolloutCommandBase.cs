using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Shared by the rollout cmdlets: a rollout is named by its id or by flag and environment (the one active rollout there),
/// its state is folded from the ledger by a fresh engine each time, and results are reported to the CI system if any.
/// </summary>
public abstract class RolloutCommandBase : FlagCmdletBase
{
    protected const string ByIdSet = "ById";
    protected const string ByFlagSet = "ByFlag";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByIdSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RolloutIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string RolloutId { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByFlagSet)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ParameterSetName = ByFlagSet)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    private protected T WithEngine<T>(Func<RolloutEngine, PipelineLog, CancellationToken, Task<T>> work)
        => RunWithRollouts(ResolveStore(Store), ResolveLedger(Ledger), work);

    /// <summary>Suspend and Resume: ask once, then change the named rollout's state as the given actor.</summary>
    private protected void ChangeRolloutState(string action, string reason, string? ticket, Func<RolloutEngine, string, RolloutActor, CancellationToken, Task<RolloutState>> change)
    {
        var environment = EnvironmentForFlagSet();
        if (!ShouldProcess(DescribeTarget(environment), action))
        {
            return;
        }

        var actor = Actor(reason, ticket);
        var state = WithEngine(async (engine, _, ct) =>
        {
            var id = await ResolveRolloutIdAsync(engine, ParameterSetName, RolloutId, Flag, environment, ct).ConfigureAwait(false);
            return await change(engine, id, actor, ct).ConfigureAwait(false);
        });
        WriteObject(state);
    }

    private protected string DescribeTarget(string environment)
        => ParameterSetName == ByIdSet ? $"rollout {RolloutId}" : $"active rollout of {Flag} in {environment}";

    /// <summary>The id of the rollout this command names: given, or the active rollout of the flag in the environment.</summary>
    private protected static async Task<string> ResolveRolloutIdAsync(RolloutEngine engine, string parameterSet, string rolloutId, string flag, string environment, CancellationToken cancellationToken)
    {
        if (parameterSet == ByIdSet)
        {
            return rolloutId;
        }

        var active = await engine.FindActiveAsync(flag, environment, cancellationToken).ConfigureAwait(false);
        return active?.RolloutId ?? throw new FlagsException("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"No active rollout of '{flag}' in '{environment}'. Get-FlagRollout -Flag {flag} lists its rollouts.", flag);
    }

    private protected string EnvironmentForFlagSet()
        => ParameterSetName == ByFlagSet ? ResolveEnvironment(Environment, ResolveStore(Store)) : "";

    protected RolloutActor Actor(string reason, string? ticket) => new() { User = UserIdentity.Resolve(User), Reason = reason, ApprovalTicket = string.IsNullOrWhiteSpace(ticket) ? null : ticket };
}
