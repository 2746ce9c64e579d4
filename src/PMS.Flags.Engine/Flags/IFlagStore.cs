namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Where flag state lives. Every store takes absolute targets (never "add 5%"), so a retried or repeated
/// change is harmless, and reports the previous state from the same operation that changed it.
/// </summary>
public interface IFlagStore
{
    /// <summary>"LocalFile", "ConfigMap" or "LaunchDarkly".</summary>
    string Kind { get; }

    /// <summary>A display name for audit records and output: never contains a secret.</summary>
    string Name { get; }

    string? DefaultEnvironment { get; }

    /// <summary>Environments whose mutations require an approval ticket.</summary>
    IReadOnlyCollection<string> ProtectedEnvironments { get; }

    Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken);

    /// <summary>All flags of an environment, or the one named; throws FlagNotFound / EnvironmentNotFound.</summary>
    Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken);

    Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken);

    /// <summary>Validates a change and returns what it would produce, without changing anything (for -WhatIf).</summary>
    Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken);
}
