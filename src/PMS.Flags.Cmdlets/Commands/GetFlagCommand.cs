using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "Flag")]
[OutputType(typeof(FlagState))]
public sealed class GetFlagCommand : FlagCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [SupportsWildcards]
    public string? Flag { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    public IFlagStore? Store { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = ResolveStore(Store);
        var environments = !string.IsNullOrWhiteSpace(Environment) ? new[] { Environment! }
            : store.DefaultEnvironment is { } defaultEnvironment ? new[] { defaultEnvironment }
            : Run((_, ct) => store.GetEnvironmentsAsync(ct)).ToArray();
        var exact = Flag is not null && !WildcardPattern.ContainsWildcardCharacters(Flag);
        var pattern = Flag is null || exact ? null : new WildcardPattern(Flag, WildcardOptions.IgnoreCase);
        try
        {
            pattern?.IsMatch("");
        }
        catch (WildcardPatternException ex)
        {
            throw new FlagsException("FlagPatternInvalid", FlagsErrorKind.InvalidArgument, $"'{Flag}' is not a valid wildcard pattern: {ex.Message}", Flag, ex);
        }

        // A flag present in some environments only is still found: every environment is read, and FlagNotFound
        // comes only when none of them has it.
        var found = false;
        FlagsException? notFound = null;
        foreach (var environment in environments)
        {
            WriteVerbose($"Reading {(exact ? $"'{Flag}'" : "flags")} in '{environment}' from {store.Name}.");
            IReadOnlyList<FlagState> flags;
            try
            {
                flags = Run((_, ct) => store.GetFlagsAsync(environment, exact ? Flag : null, ct));
            }
            catch (FlagsException ex) when (exact && environments.Length > 1 && ex.ErrorId == "FlagNotFound")
            {
                WriteVerbose($"'{Flag}' is not in '{environment}'.");
                notFound ??= ex;
                continue;
            }

            foreach (var flag in flags.Where(f => pattern is null || pattern.IsMatch(f.Flag)))
            {
                found = true;
                WriteObject(flag);
            }
        }

        if (!found && notFound is not null)
        {
            throw new FlagsException("FlagNotFound", FlagsErrorKind.ObjectNotFound, $"Flag '{Flag}' is in none of the environments of {store.Name} ({string.Join(", ", environments)}).", Flag, notFound);
        }
    }
}
