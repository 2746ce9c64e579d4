namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>What a 404 can mean for a request, so it can be turned into ProjectNotFound, FlagNotFound or EnvironmentNotFound.</summary>
internal enum LaunchDarklyNotFoundContext
{
    Project,
    FlagRead,
    FlagList,
    FlagStatus,
    FlagPatch,
}
