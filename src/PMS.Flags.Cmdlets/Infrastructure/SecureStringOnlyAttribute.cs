using System.Management.Automation;
using System.Security;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Refuses a plain string for a secret parameter with a hint, instead of the binder's bare "cannot convert": a key typed
/// as text is already in the session history, and the operator needs to know what to pass instead.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecureStringOnlyAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject { BaseObject: var inner } ? inner : inputData;
        if (value is SecureString or null)
        {
            return value!;
        }

        // The message never repeats the value: it may be the key itself.
        throw new ArgumentTransformationMetadataException($"-ApiKey takes a SecureString, not a {value.GetType().Name}: pass -ApiKey (Read-Host -AsSecureString 'LaunchDarkly access token'), or set LD_API_KEY in the pipeline's secrets and leave -ApiKey out");
    }
}
