namespace PMS.Flags.TestServers.Backend;

/// <summary>How the PMS backend stand-in behaves: which flag it serves, how much traffic it simulates, and whether the flagged feature is faulty.</summary>
public sealed class BackendStandInOptions
{
    /// <summary>The feature_flags.json the backend reads its flags from, as the real backend does.</summary>
    public required string FlagFile { get; init; }

    public required string Flag { get; init; }

    public required string Environment { get; init; }

    /// <summary>Bearer token required by /api/v1/feature-flags/status.</summary>
    public string Token { get; init; } = "backend-test-token";

    public int Port { get; init; }

    public double RequestsPerSecond { get; init; } = 200;

    /// <summary>Share of all requests that fail whatever the flag says (background noise).</summary>
    public double BaseErrorRate { get; init; }

    public bool FeatureFaulty { get; init; }

    /// <summary>Share of the flagged feature's requests that fail while the feature is faulty.</summary>
    public double FaultErrorRate { get; init; } = 0.5;

    /// <summary>Latency of the flagged feature's requests while it is faulty.</summary>
    public double FaultLatencySeconds { get; init; } = 3.0;
}
