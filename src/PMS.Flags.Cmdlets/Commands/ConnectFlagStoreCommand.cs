using System.Management.Automation;
using System.Security;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Flags.LaunchDarkly;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommunications.Connect, "FlagStore", DefaultParameterSetName = LocalFileSet)]
[OutputType(typeof(LocalFileFlagStore), ParameterSetName = new[] { LocalFileSet })]
[OutputType(typeof(LaunchDarklyFlagStore), ParameterSetName = new[] { LaunchDarklySet })]
public sealed class ConnectFlagStoreCommand : FlagCmdletBase
{
    private const string LocalFileSet = "LocalFile";
    private const string LaunchDarklySet = "LaunchDarkly";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LocalFileSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = LaunchDarklySet)]
    public SwitchParameter LaunchDarkly { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = LaunchDarklySet)]
    [ValidateNotNullOrEmpty]
    public string ProjectKey { get; set; } = "";

    [Parameter(ParameterSetName = LaunchDarklySet)]
    [SecureStringOnly]
    public SecureString? ApiKey { get; set; }

    [Parameter(ParameterSetName = LaunchDarklySet)]
    public Uri? BaseUri { get; set; }

    [Parameter(ParameterSetName = LaunchDarklySet)]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    [Parameter]
    public string? Environment { get; set; }

    [Parameter]
    public string[] ProtectedEnvironment { get; set; } = { "production" };

    [Parameter]
    public SwitchParameter NoDefault { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (!NoDefault)
        {
            // Forget the previous default before trying: if this Connect fails, the next change must not go there.
            FlagSession.Current.Store = null;
            FlagSession.Current.FailedStoreConnect = ParameterSetName == LaunchDarklySet ? $"-LaunchDarkly -ProjectKey {ProjectKey}" : $"-Path {Path}";
        }

        var store = ParameterSetName == LaunchDarklySet ? ConnectLaunchDarkly() : new LocalFileFlagStore(ResolvePath(Path), Environment, ProtectedEnvironment);
        var environments = Run((_, ct) => store.GetEnvironmentsAsync(ct));
        WriteVerbose($"Connected to {store.Name}: environments {string.Join(", ", environments)}.");
        if (Environment is not null && !environments.Contains(Environment))
        {
            throw new FlagsException("EnvironmentNotFound", FlagsErrorKind.InvalidArgument, $"Environment '{Environment}' is not in {store.Name}. Known environments: {string.Join(", ", environments)}.", Environment);
        }

        if (!NoDefault)
        {
            FlagSession.Current.Store = store;
            FlagSession.Current.FailedStoreConnect = null;
        }

        WriteObject(store);
    }

    private IFlagStore ConnectLaunchDarkly()
    {
        using var token = ApiKey is not null ? new LaunchDarklyAccessToken(ApiKey)
            : LaunchDarklyAccessToken.FromEnvironment()
              ?? throw new FlagsException("LaunchDarklyTokenMissing", FlagsErrorKind.AuthenticationError, $"No LaunchDarkly access token: pass -ApiKey (a SecureString) or set {LaunchDarklyAccessToken.EnvironmentVariable}.");
        WriteVerbose($"Connecting to LaunchDarkly project '{ProjectKey}' at {BaseUri?.GetLeftPart(UriPartial.Authority) ?? LaunchDarklyClient.DefaultBaseUri.ToString()} (token from {(ApiKey is not null ? "-ApiKey" : LaunchDarklyAccessToken.EnvironmentVariable)}).");
        return new LaunchDarklyFlagStore(ProjectKey, BaseUri, token, TimeSpan.FromSeconds(TimeoutSec), Environment, ProtectedEnvironment, AmbientOperationLog.Instance);
    }
}
