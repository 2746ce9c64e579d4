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

    public static FlagSession Current => Sessions.GetOrAdd(Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty, _ => new FlagSession());
}
