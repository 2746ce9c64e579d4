using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace PMS.Flags.Loader;

/// <summary>
/// Hooks the default context's Resolving event for the engine's name only (the documented load-context pattern):
/// the engine then loads into EngineLoadContext, which resolves the engine's own dependencies privately. This runs as
/// the manifest's nested module, which PowerShell imports before the root module (the cmdlet assembly): when it scans
/// the cmdlet types, engine base types, interfaces and enums already resolve.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string EngineAssemblyName = "PMS.Flags.Engine";
    private static readonly string DependencyDirectory = Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "dependencies");
    private static readonly Lazy<EngineLoadContext> LoadContext = new(() => new EngineLoadContext(DependencyDirectory));

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName assemblyName)
        => assemblyName.Name == EngineAssemblyName ? LoadContext.Value.LoadFromAssemblyName(assemblyName) : null;
}
