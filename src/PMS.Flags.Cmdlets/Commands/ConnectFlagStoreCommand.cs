using System.Management.Automation;
using System.Security;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Flags.LaunchDarkly;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommunications.Connect, "FlagStore", DefaultParameterSetName = LocalFileSet)]
[OutputType(typeof(LocalFileFlagStore), ParameterSetName = new[] { LocalFileSet })]
[OutputType(typeof(LaunchDarklyFlagStore), ParameterSetName = new[] { LaunchDarklySet })]
[OutputType(typeof(ConfigMapFlagStore), ParameterSetName = new[] { ConfigMapSet })]
public sealed class ConnectFlagStoreCommand : FlagCmdletBase
{
    private const string LocalFileSet = "LocalFile";
    private const string LaunchDarklySet = "LaunchDarkly";
    private const string ConfigMapSet = "ConfigMap";

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

    // The ConfigMap store (playbook Option B): the document in a ConfigMap key, pods restarted after each change.
    [Parameter(Mandatory = true, ParameterSetName = ConfigMapSet)]
    public SwitchParameter ConfigMap { get; set; }

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = "pms";

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "feature-flags-config";

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string Key { get; set; } = "feature_flags.json";

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string Deployment { get; set; } = "pms-backend";

    [Parameter(ParameterSetName = ConfigMapSet)]
    public SwitchParameter NoRestart { get; set; }

    [Parameter(ParameterSetName = ConfigMapSet)]
    public TimeSpan RolloutTimeout { get; set; } = TimeSpan.FromMinutes(10);

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    [Parameter(ParameterSetName = ConfigMapSet)]
    [ValidateNotNullOrEmpty]
    public string? KubeContext { get; set; }

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
            FlagSession.Current.FailedStoreConnect = ParameterSetName switch
            {
                LaunchDarklySet => $"-LaunchDarkly -ProjectKey {ProjectKey}",
                ConfigMapSet => $"-ConfigMap -Namespace {Namespace} -Name {Name}",
                _ => $"-Path {Path}",
            };
        }

        var store = ParameterSetName switch
        {
            LaunchDarklySet => ConnectLaunchDarkly(),
            ConfigMapSet => ConnectConfigMap(),
            _ => new LocalFileFlagStore(ResolvePath(Path), Environment, ProtectedEnvironment),
        };
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

    // Not inlined: only this method names the ConfigMap store, so the other stores never touch the Kubernetes code.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private IFlagStore ConnectConfigMap()
    {
        if (RolloutTimeout <= TimeSpan.Zero)
        {
            throw new FlagsException(KubernetesErrorIds.TimeoutInvalid, FlagsErrorKind.InvalidArgument, $"-RolloutTimeout must be positive; got {RolloutTimeout}.", RolloutTimeout);
        }

        var target = KubernetesTargetFor(KubeConfig, KubeContext, Namespace, Deployment);
        WriteVerbose($"Connecting to ConfigMap {Namespace}/{Name} key {Key}{(NoRestart ? " (no restart after changes)" : $", restarting deployment {Deployment} after changes")}.");
        return Run((_, ct) => ConfigMapFlagStore.ConnectAsync(target, Name, Key, NoRestart, Environment, ProtectedEnvironment, RolloutTimeout, ct).ContinueWith(t => (IFlagStore)t.GetAwaiter().GetResult(), ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
    }

    private IFlagStore ConnectLaunchDarkly()
    {
        using var token = ApiKey is not null ? new LaunchDarklyAccessToken(ApiKey)
            : LaunchDarklyAccessToken.FromEnvironment()
              ?? throw new FlagsException("LaunchDarklyTokenMissing", FlagsErrorKind.AuthenticationError, $"No LaunchDarkly access token: pass -ApiKey (a SecureString) or set {LaunchDarklyAccessToken.EnvironmentVariable}.");
        // Validated before it is printed: a base URI with user info is refused, so no password reaches the verbose stream.
        var baseUri = BaseUri is null ? LaunchDarklyClient.DefaultBaseUri : LaunchDarklyClient.ValidateBaseUri(BaseUri);
        WriteVerbose($"Connecting to LaunchDarkly project '{ProjectKey}' at {baseUri.GetLeftPart(UriPartial.Authority)} (token from {(ApiKey is not null ? "-ApiKey" : LaunchDarklyAccessToken.EnvironmentVariable)}).");
        return new LaunchDarklyFlagStore(ProjectKey, BaseUri, token, TimeSpan.FromSeconds(TimeoutSec), Environment, ProtectedEnvironment, AmbientOperationLog.Instance);
    }
}
