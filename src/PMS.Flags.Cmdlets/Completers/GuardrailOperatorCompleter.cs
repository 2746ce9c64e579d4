using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PMS.Flags.Cmdlets.Completers;

/// <summary>
/// Completes -Operator with the playbook's symbols and the operator names. Not a ValidateSet, because the symbols are
/// the notation people copy from alert rules and the engine's parser gives a bad one its own ErrorId.
/// </summary>
public sealed class GuardrailOperatorCompleter : IArgumentCompleter
{
    // The engine's GuardrailOperators.Spellings; repeated here so completing never loads the engine.
    private static readonly string[] Spellings = { ">", ">=", "<", "<=", "GreaterThan", "GreaterOrEqual", "LessThan", "LessOrEqual" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return Spellings
            .Where(s => s.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(s => new CompletionResult(char.IsLetter(s[0]) ? s : $"'{s}'", s, CompletionResultType.ParameterValue, s))
            .ToArray();
    }
}
