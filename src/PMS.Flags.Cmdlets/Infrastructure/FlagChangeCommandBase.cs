using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>The parameters and flow every flag-changing cmdlet shares: resolve the target, ask, change, record, write the result.</summary>
public abstract class FlagChangeCommandBase : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string Flag { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected FlagMutation BuildMutation(IFlagStore store, FlagChangeKind kind, decimal? percentage = null, string? rule = null)
    {
        if (WildcardPattern.ContainsWildcardCharacters(Flag))
        {
            throw new FlagsException("FlagWildcardNotAccepted", FlagsErrorKind.InvalidArgument, $"'{Flag}' is a wildcard pattern; wildcards are not accepted here: a change names one flag. To change several, pipe them: Get-Flag -Flag '{Flag}' | {MyInvocation.MyCommand.Name} ...", Flag);
        }

        return NewMutation(store, kind, percentage, rule);
    }

    private FlagMutation NewMutation(IFlagStore store, FlagChangeKind kind, decimal? percentage, string? rule) => new()
    {
        Flag = Flag,
        Environment = ResolveEnvironment(Environment, store),
        Kind = kind,
        Percentage = percentage,
        Reason = Reason,
        ApprovalTicket = string.IsNullOrWhiteSpace(ApprovalTicket) ? null : ApprovalTicket,
        User = UserIdentity.Resolve(User),
        Rule = rule,
    };

    /// <summary>
    /// -WhatIf previews through the store (LaunchDarkly validates it with dryRun) and names the exact change;
    /// a real run asks once and then changes, without the extra preview request.
    /// </summary>
    protected void Change(IFlagStore store, FlagMutation mutation, bool force)
    {
        var target = $"{mutation.Flag} in {mutation.Environment} ({store.Name})";
        // -WhatIf previews like it skips the approval check: the ledger policy applies to the real run.
        var ledger = WhatIfRequested ? ResolveLedger(Ledger) : ResolveLedgerFor(Ledger, LedgerPolicy.UseOf(mutation), mutation.Environment, store.ProtectedEnvironments);
        if (WhatIfRequested)
        {
            var preview = Run((log, ct) => new FlagOperations(store, AuditTrailFor(ledger, log.Engine)).PreviewAsync(mutation, ct));
            ShouldProcess(target, $"{Describe(preview.Previous)} -> {Describe(preview.Current)}{(preview.Changed ? "" : " (already so: no change)")}");
            return;
        }

        FlagOperations.Validate(store, mutation);
        if (!ShouldProcessUnlessForced(force, target, mutation.ToChange().ToString()))
        {
            return;
        }

        if (mutation.Kind is FlagChangeKind.TurnOn || mutation is { Kind: FlagChangeKind.SetPercentage, Percentage: > 0 })
        {
            EnsureReady(store, ledger, mutation.Flag, mutation.Environment, null, mutation.Reason ?? "", mutation.ApprovalTicket, mutation.User);
        }

        var record = Run((log, ct) => new FlagOperations(store, AuditTrailFor(ledger, log.Engine)).ChangeAsync(mutation, ct));
        WriteObject(record);
    }

    private static string Describe(FlagState? state)
        => state is null ? "unknown" : $"{(state.On ? "on" : "off")} at {(state.Percentage is { } p ? FlagPercentage.Format(p) + "%" : "an unknown percentage")}";
}
