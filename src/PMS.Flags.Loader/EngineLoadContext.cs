using System.Reflection;
using System.Runtime.Loader;

namespace PMS.Flags.Loader;

/// <summary>
/// The private load context for the engine and its third-party dependencies, so that another module's copy of
/// Polly, YamlDotNet or Npgsql in the session cannot clash with ours. Names we do not ship (the framework,
/// Newtonsoft.Json that pwsh already loaded) fall through to the default context.
/// </summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    private readonly string dependencyDirectory;

    public EngineLoadContext(string dependencyDirectory)
        : base("PMS.Flags.Engine", isCollectible: false)
    {
        this.dependencyDirectory = dependencyDirectory;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var candidate = Path.Combine(dependencyDirectory, assemblyName.Name + ".dll");
        return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }
}
