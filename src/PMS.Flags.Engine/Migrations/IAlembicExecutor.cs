using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>Where alembic runs: on this machine (<see cref="AlembicRunner"/>) or inside a pod (<see cref="PodAlembicRunner"/>).</summary>
public interface IAlembicExecutor
{
    /// <summary>For messages and the audit record: "local", or "pod namespace/name".</summary>
    string Via { get; }

    /// <summary>True when alembic reads this machine's alembic.ini (-c); a pod uses the one in its working directory.</summary>
    bool UsesLocalIni { get; }

    /// <summary>Fails with AlembicNotFound (or the reason no pod can run it) before anything changes.</summary>
    Task EnsureAvailableAsync(IOperationLog log, CancellationToken cancellationToken);

    Task<AlembicRun> RunAsync(string? iniPath, IReadOnlyList<string> arguments, DatabaseTarget database, IOperationLog log, CancellationToken cancellationToken);
}
