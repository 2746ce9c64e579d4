using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>The store and ledger a runspace connected to, so commands need not repeat -Store and -Ledger.</summary>
internal sealed class FlagSession
{
    private static readonly ConcurrentDictionary<Guid, FlagSession> Sessions = new();

    public IFlagStore? Store { get; set; }

    public ILedger? Ledger { get; set; }

    /// <summary>
    /// Set when the last Connect-FlagStore failed: the previous default is gone and nothing falls back in its place,
    /// so a script that ignores the failed Connect cannot send its next change to the store it meant to leave.
    /// </summary>
    public string? FailedStoreConnect { get; set; }

    /// <summary>As <see cref="FailedStoreConnect"/>, for Connect-FlagLedger: no change goes to the previous or default ledger.</summary>
    public string? FailedLedgerConnect { get; set; }

    /// <summary>The default ledger this session verified on first use (verification on open happens once a session).</summary>
    public string? VerifiedDefaultLedger { get; set; }

    public static FlagSession Current => Sessions.GetOrAdd(Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty, _ => new FlagSession());
}
