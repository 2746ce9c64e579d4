using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>
/// Completes -Template with the built-in notification templates. Not a ValidateSet, so that an unknown name gets the
/// engine's NotificationTemplateUnknown, which lists the templates and points at -TemplatePath.
/// </summary>
public sealed class NotificationTemplateCompleter : IArgumentCompleter
{
    // The engine's NotificationTemplates.Names; repeated here so completing never loads the engine.
    private static readonly string[] Names = { "PreRollout", "Rollback", "RolloutComplete" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return Names
            .Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
            .ToArray();
    }
}
