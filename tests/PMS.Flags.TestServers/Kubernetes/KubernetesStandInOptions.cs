namespace PMS.Flags.TestServers.Kubernetes;

public sealed class KubernetesStandInOptions
{
    /// <summary>The bearer token every /api and /apis request must carry (over https; the .NET client also sends it over http).</summary>
    public string Token { get; init; } = "k8s-standin-token";

    /// <summary>Token the PMS backend's pods require on /api/v1/feature-flags/status.</summary>
    public string BackendToken { get; init; } = "backend-test-token";

    /// <summary>The namespace, ConfigMap, key and deployment of the playbook's Option B, created at start.</summary>
    public string Namespace { get; init; } = "pms";

    public string ConfigMapName { get; init; } = "feature-flags-config";

    public string ConfigMapKey { get; init; } = "feature_flags.json";

    public string DeploymentName { get; init; } = "pms-backend";

    /// <summary>The environment the backend pods serve (what /api/v1/feature-flags/status reports).</summary>
    public string Environment { get; init; } = "production";

    /// <summary>The flag document the ConfigMap starts with; null for a small built-in one.</summary>
    public string? Document { get; init; }

    public int Replicas { get; init; } = 2;

    /// <summary>How long a new pod takes from creation to ready; a rollout of N replicas takes N times this.</summary>
    public double PodReadySeconds { get; init; } = 0.5;

    public int ProgressDeadlineSeconds { get; init; } = 600;

    /// <summary>Serve metrics.k8s.io (kubectl top).</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>0 picks a free port (http and https each get one).</summary>
    public int Port { get; init; }

    public int TlsPort { get; init; }

    /// <summary>The minor version /version reports; 32 keeps the kubectl dispatcher on its built-in 1.32 client.</summary>
    public string Minor { get; init; } = "32";
}
