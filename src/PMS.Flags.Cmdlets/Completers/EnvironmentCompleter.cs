using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>Completes -Environment from the environments the store knows.</summary>
public sealed class EnvironmentCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var store = CompletionStore.Resolve(fakeBoundParameters);
        if (store is null)
        {
            return Array.Empty<CompletionResult>();
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return store.GetEnvironmentsAsync(timeout.Token).GetAwaiter().GetResult()
                .Where(e => e.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .OrderBy(e => e, StringComparer.OrdinalIgnoreCase)
                .Select(e => new CompletionResult(FlagKeyCompleter.Quote(e), e, CompletionResultType.ParameterValue, e))
                .ToArray();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
