using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>Completes -Flag from the store the command would use, in the environment already typed (or the store's default).</summary>
public sealed class FlagKeyCompleter : IArgumentCompleter
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
            var environment = fakeBoundParameters["Environment"] as string ?? store.DefaultEnvironment
                ?? store.GetEnvironmentsAsync(timeout.Token).GetAwaiter().GetResult().FirstOrDefault();
            if (environment is null)
            {
                return Array.Empty<CompletionResult>();
            }

            return store.GetFlagsAsync(environment, null, timeout.Token).GetAwaiter().GetResult()
                .Where(f => f.Flag.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => f.Flag, StringComparer.OrdinalIgnoreCase)
                .Select(f => new CompletionResult(Quote(f.Flag), f.Flag, CompletionResultType.ParameterValue, f.ToString()))
                .ToArray();
        }
        catch (Exception)
        {
            // A completer must never throw into the user's prompt; no suggestions is the honest answer.
            return Array.Empty<CompletionResult>();
        }
    }

    internal static string Quote(string value) => value.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', ';', '(', ')', '{', '}', '@', '#', ',' }) >= 0 ? "'" + value.Replace("'", "''") + "'" : value;
}
