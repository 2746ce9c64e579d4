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
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>Step, Resume and Start change; Stop and Suspend stop harm and are never held up by the ledger policy.</summary>
    private protected virtual LedgerUse LedgerUse => LedgerUse.Change;

    private protected T WithEngine<T>(Func<RolloutEngine, PipelineLog, CancellationToken, Task<T>> work)
        => RunWithRollouts(ResolveStore(Store), ResolveLedger(Ledger), work);

    /// <summary>Suspend and Resume: find the rollout, ask once naming it, then change its state as the given actor.</summary>
    private protected void ChangeRolloutState(string action, string reason, string? ticket, Func<RolloutEngine, string, RolloutActor, CancellationToken, Task<RolloutState>> change)
    {
        var id = ResolveRollout(out var target);
        if (!ShouldProcess(target, action))
        {
            return;
        }

        var actor = Actor(reason, ticket);
        var state = WithEngine((engine, _, ct) => change(engine, id, actor, ct));
        WriteObject(state);
    }

    /// <summary>
    /// The rollout this command names, found BEFORE anything is asked: -WhatIf and -Confirm then name the rollout
    /// (its id, flag and environment), and a missing one is RolloutNotFound rather than a question about nothing.
    /// </summary>
    private protected string ResolveRollout(out string target)
    {
        var environment = EnvironmentForFlagSet();
        var state = WithEngine(async (engine, _, ct) => ParameterSetName == ByIdSet
            ? await engine.GetAsync(RolloutId, ct).ConfigureAwait(false)
            : await engine.FindActiveAsync(Flag, environment, ct).ConfigureAwait(false)
              ?? throw new FlagsException("RolloutNotFound", FlagsErrorKind.ObjectNotFound, $"No active rollout of '{Flag}' in '{environment}'. Get-FlagRollout -Flag {Flag} lists its rollouts.", Flag));
        target = $"rollout {state.RolloutId} of {state.Flag} in {state.Environment} ({state.Status})";
        if (!WhatIfRequested)
        {
            ResolveLedgerFor(Ledger, LedgerUse, state.Environment, ResolveStore(Store).ProtectedEnvironments);
        }

        return state.RolloutId;
    }

    private protected string EnvironmentForFlagSet()
        => ParameterSetName == ByFlagSet ? ResolveEnvironment(Environment, ResolveStore(Store)) : "";

    protected RolloutActor Actor(string reason, string? ticket) => new() { User = UserIdentity.Resolve(User), Reason = reason, ApprovalTicket = string.IsNullOrWhiteSpace(ticket) ? null : ticket };
}
