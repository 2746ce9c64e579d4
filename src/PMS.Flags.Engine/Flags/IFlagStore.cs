namespace PMS.Flags.Engine.Flags;

/// <summary>
/// Where flag state lives. Every store takes absolute targets (never "add 5%"), so a retried or repeated
/// change is harmless, and reports the previous state from the same operation that changed it.
/// </summary>
public interface IFlagStore
{
    /// <summary>"LocalFile", "ConfigMap" or "LaunchDarkly".</summary>
    string Kind { get; }

    /// <summary>A display name for output and messages: never contains a secret.</summary>
    string Name { get; }

    /// <summary>
    /// The store's stable identity, recorded in every event and rollout so that any agent can continue a rollout:
    /// <c>localfile:&lt;path relative to the git repository root, or canonical outside one&gt;</c>,
    /// <c>launchdarkly:&lt;project&gt;</c>, <c>configmap:&lt;namespace&gt;/&lt;name&gt;/&lt;key&gt;</c>. Never a secret.
    /// </summary>
    string Identity { get; }

    string? DefaultEnvironment { get; }

    /// <summary>Environments whose mutations require an approval ticket.</summary>
    IReadOnlyCollection<string> ProtectedEnvironments { get; }

    Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken);

    /// <summary>All flags of an environment, or the one named; throws FlagNotFound / EnvironmentNotFound.</summary>
    Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the change and returns once it is APPLIED (the store holds it). Whether users already get it is a second
    /// phase: see <see cref="PropagatesLater"/>.
    /// </summary>
    Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken);

    /// <summary>
    /// True when an applied change reaches users only later (a ConfigMap is read by pods when they restart): callers
    /// then record the change as applied, await <see cref="WaitForPropagationAsync"/>, and record it as propagated.
    /// Rollouts bake from "propagated". A file or LaunchDarkly change is live once applied.
    /// </summary>
    bool PropagatesLater => false;

    /// <summary>Returns when an applied change is live for users (PROPAGATED), with the time it became so.</summary>
    Task<DateTimeOffset> WaitForPropagationAsync(FlagChangeResult applied, CancellationToken cancellationToken) => Task.FromResult(DateTimeOffset.UtcNow);

    /// <summary>Validates a change and returns what it would produce, without changing anything (for -WhatIf).</summary>
    Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken);
}
