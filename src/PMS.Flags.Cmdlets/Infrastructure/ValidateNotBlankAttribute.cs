using System.Management.Automation;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Refuses an empty or whitespace-only string at binding time. Used for -User: a blank value used to fall back to the
/// OS user silently, so an asserted identity could vanish from the record without anyone noticing.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNotBlankAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is null || (arguments is PSObject { BaseObject: var inner } ? inner : arguments).ToString()!.Trim().Length == 0)
        {
            throw new ValidationMetadataException("The value is empty or blank. Pass a user name, or leave the parameter out to use GITHUB_ACTOR, BUILD_REQUESTEDFOREMAIL or the OS user");
        }
    }
}
