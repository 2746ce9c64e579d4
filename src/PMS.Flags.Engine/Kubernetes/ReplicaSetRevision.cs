namespace PMS.Flags.Engine.Kubernetes;

/// <summary>A ReplicaSet the deployment controls, with its <c>deployment.kubernetes.io/revision</c>.</summary>
public sealed record ReplicaSetRevision(string Name, long Revision, DateTimeOffset? CreatedAt);
