namespace PMS.Flags.Engine.Kubernetes;

/// <summary>A Kubernetes event about the deployment, its ReplicaSets or pods (what <c>kubectl describe pod</c> lists).</summary>
public sealed record ClusterEvent
{
    public DateTimeOffset? LastSeen { get; init; }

    public string Type { get; init; } = "Normal";

    public string Reason { get; init; } = "";

    public string Object { get; init; } = "";

    public string Message { get; init; } = "";

    public int Count { get; init; } = 1;

    public override string ToString() => $"{Type} {Reason} {Object}: {Message}";
}
