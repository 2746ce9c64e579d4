namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>One logical request (re-sent as a fresh HttpRequestMessage on every attempt) and what it is about.</summary>
internal sealed record LaunchDarklyRequest
{
    private LaunchDarklyRequest(HttpMethod method, string pathAndQuery, string description, string projectKey)
    {
        Method = method;
        PathAndQuery = pathAndQuery;
        Description = description;
        ProjectKey = projectKey;
    }

    public HttpMethod Method { get; }

    /// <summary>Starts with <c>/api/v2/</c>; holds no secret, so it may be logged.</summary>
    public string PathAndQuery { get; }

    /// <summary>Human wording for messages, after "to": "read flag 'x' in project 'pms'".</summary>
    public string Description { get; }

    public string ProjectKey { get; }

    public string? FlagKey { get; init; }

    public string? EnvironmentKey { get; init; }

    public string? Body { get; init; }

    public string? ContentType { get; init; }

    /// <summary>A request that may change the flag (a PATCH without dryRun).</summary>
    public bool IsWrite { get; init; }

    public bool IsDryRun { get; init; }

    public LaunchDarklyNotFoundContext NotFoundContext { get; init; }

    public static LaunchDarklyRequest Get(string pathAndQuery, string description, string projectKey)
        => new(HttpMethod.Get, pathAndQuery, description, projectKey);

    public static LaunchDarklyRequest Patch(string pathAndQuery, string description, string projectKey)
        => new(HttpMethod.Patch, pathAndQuery, description, projectKey);

    public override string ToString() => $"{Method} {PathAndQuery}";
}
