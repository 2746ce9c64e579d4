namespace PMS.Flags.TestServers.LaunchDarkly;

public sealed class LaunchDarklyStandInOptions
{
    /// <summary>The access token the stand-in accepts (as the whole Authorization header value, no "Bearer").</summary>
    public string Token { get; init; } = "api-standin-token";

    /// <summary>A second token that may read but not write: PATCH answers 403 forbidden.</summary>
    public string? ReadOnlyToken { get; init; }

    /// <summary>Seed document (see default-seed.json); null for the built-in default seed.</summary>
    public string? SeedJson { get; init; }

    /// <summary>
    /// Answer 404 to <c>GET /api/v2/flags/{project}/{flag}?env=unknown</c> instead of leaving the environment out (the
    /// documented filter behaviour, and the default), so a client can be tested against either.
    /// </summary>
    public bool UnknownEnvironmentIs404 { get; init; }

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }
}
