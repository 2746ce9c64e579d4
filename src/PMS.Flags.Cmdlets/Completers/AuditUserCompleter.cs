using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>Completes Get-FlagAudit -User with the users the ledger (-Ledger, else the session's) has recorded.</summary>
public sealed class AuditUserCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var ledger = fakeBoundParameters["Ledger"] as ILedger ?? (fakeBoundParameters["Ledger"] as PSObject)?.BaseObject as ILedger
                ?? FlagSession.Current.Ledger ?? new JsonlLedger(StatePaths.DefaultLedger());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return ledger.Read(AuditQuery.All, timeout.Token)
                .Select(e => e.UserId)
                .Where(u => !string.IsNullOrEmpty(u) && u.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(u => u, StringComparer.OrdinalIgnoreCase)
                .Select(u => new CompletionResult(FlagKeyCompleter.Quote(u!), u, CompletionResultType.ParameterValue, u))
                .ToArray();
        }
        catch (Exception)
        {
            // A completer must never throw into the user's prompt, nor fall back to file names.
            return Array.Empty<CompletionResult>();
        }
    }
}
