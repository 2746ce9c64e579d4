using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>
/// Completes -RolloutId with every rollout the session's ledger knows, active ones first, then newest first: an ended
/// rollout is still worth naming (Get-FlagRollout, and Stop or Resume, which then say why not).
/// </summary>
public sealed class RolloutIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var store = FlagSession.Current.Store;
        if (store is null)
        {
            return Array.Empty<CompletionResult>();
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var ledger = FlagSession.Current.Ledger ?? new JsonlLedger(StatePaths.DefaultLedger());
            using var guardrails = new GuardrailFactory();
            var engine = new RolloutEngine(store, new AuditTrail(ledger, new AuditSpool(StatePaths.SpoolDirectory()), NullOperationLog.Instance), guardrails);
            return engine.ListAsync(null, null, activeOnly: false, timeout.Token).GetAwaiter().GetResult()
                .Where(r => r.RolloutId.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(r => r.IsActive)
                .ThenByDescending(r => r.StartedAt)
                .Select(r => new CompletionResult(r.RolloutId, r.RolloutId, CompletionResultType.ParameterValue, r.ToString()))
                .ToArray();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
