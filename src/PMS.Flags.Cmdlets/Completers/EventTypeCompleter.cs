using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>Completes Get-FlagAudit -EventType with the event types the module writes.</summary>
public sealed class EventTypeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        => AuditEventTypes.Known
            .Where(t => t.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .OrderBy(t => t, StringComparer.Ordinal)
            .Select(t => new CompletionResult(t, t, CompletionResultType.ParameterValue, t))
            .ToArray();
}
