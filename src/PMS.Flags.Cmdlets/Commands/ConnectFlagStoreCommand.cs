using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommunications.Connect, "FlagStore", DefaultParameterSetName = LocalFileSet)]
[OutputType(typeof(LocalFileFlagStore))]
public sealed class ConnectFlagStoreCommand : FlagCmdletBase
{
    private const string LocalFileSet = "LocalFile";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LocalFileSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public string? Environment { get; set; }

    [Parameter]
    public string[] ProtectedEnvironment { get; set; } = { "production" };

    [Parameter]
    public SwitchParameter NoDefault { get; set; }

    protected override void ProcessFlagRecord()
    {
        var store = new LocalFileFlagStore(ResolvePath(Path), Environment, ProtectedEnvironment);
        var environments = Run((_, ct) => store.GetEnvironmentsAsync(ct));
        WriteVerbose($"Connected to {store.Name}: environments {string.Join(", ", environments)}.");
        if (Environment is not null && !environments.Contains(Environment))
        {
            throw new Engine.Common.FlagsException("EnvironmentNotFound", Engine.Common.FlagsErrorKind.InvalidArgument, $"Environment '{Environment}' is not in '{store.Path}'. Known environments: {string.Join(", ", environments)}.", Environment);
        }

        if (!NoDefault)
        {
            FlagSession.Current.Store = store;
        }

        WriteObject(store);
    }
}
