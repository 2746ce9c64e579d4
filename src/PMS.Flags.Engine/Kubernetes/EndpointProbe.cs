namespace PMS.Flags.Engine.Kubernetes;

/// <summary>One GET of a health endpoint: status code (null when unreachable), latency and what went wrong.</summary>
public sealed record EndpointProbe(Uri Url, int? StatusCode, TimeSpan Latency, string? Error)
{
    public bool Healthy => StatusCode is >= 200 and < 300;

    public override string ToString() => StatusCode is { } s ? $"{Url} {s} in {Latency.TotalMilliseconds:0} ms" : $"{Url} unreachable: {Error}";
}
