using System.Collections;
using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>The store a completion should read: the -Store already typed on the command line, else the session's.</summary>
internal static class CompletionStore
{
    public static IFlagStore? Resolve(IDictionary fakeBoundParameters)
        => fakeBoundParameters["Store"] as IFlagStore ?? (fakeBoundParameters["Store"] as PSObject)?.BaseObject as IFlagStore ?? FlagSession.Current.Store;
}
