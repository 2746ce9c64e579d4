namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// The stable ErrorIds of the Kubernetes cmdlets, the ConfigMap store and the deployment guardrail
/// (<see cref="Common.FlagsException.ErrorId"/>). Kept in one place so they can move into the project-wide catalogue.
/// </summary>
public static class KubernetesErrorIds
{
    /// <summary>The kubeconfig file named (or found by default resolution) does not exist, or none was found and this is not a pod.</summary>
    public const string KubeConfigNotFound = "KubeConfigNotFound";

    /// <summary>The kubeconfig cannot be read (not YAML, no cluster, no current context).</summary>
    public const string KubeConfigInvalid = "KubeConfigInvalid";

    /// <summary>-KubeContext names a context the kubeconfig does not have.</summary>
    public const string KubeContextNotFound = "KubeContextNotFound";

    /// <summary>The API server cannot be reached (connection refused, DNS, TLS handshake, timeout).</summary>
    public const string ApiUnreachable = "KubernetesApiUnreachable";

    /// <summary>401: the token is missing, invalid or expired.</summary>
    public const string Unauthorized = "KubernetesUnauthorized";

    /// <summary>403: the identity may not do this (RBAC).</summary>
    public const string Forbidden = "KubernetesForbidden";

    public const string NamespaceNotFound = "KubernetesNamespaceNotFound";

    public const string DeploymentNotFound = "DeploymentNotFound";

    /// <summary>The pod chosen for an exec went away before the command started.</summary>
    public const string PodNotFound = "KubernetesPodNotFound";

    /// <summary>An exec named a container the pod does not have.</summary>
    public const string ContainerNotFound = "KubernetesContainerNotFound";

    public const string ConfigMapNotFound = "ConfigMapNotFound";

    /// <summary>The ConfigMap exists but has no such key in data.</summary>
    public const string ConfigMapKeyNotFound = "ConfigMapKeyNotFound";

    /// <summary>The ConfigMap's document is not a JSON object of environments.</summary>
    public const string ConfigMapDocumentInvalid = "ConfigMapDocumentInvalid";

    /// <summary>409 after the bounded re-reads: other writers kept changing the ConfigMap.</summary>
    public const string ConfigMapConflict = "ConfigMapConflict";

    /// <summary>The API server refused a request (400/422) or answered something unexpected.</summary>
    public const string ApiRejected = "KubernetesApiRejected";

    /// <summary>The rollout did not finish within -Timeout; the message says what state things were left in.</summary>
    public const string RolloutTimeout = "DeploymentRolloutTimeout";

    /// <summary>The deployment's Progressing condition says ProgressDeadlineExceeded (e.g. new pods crash-loop).</summary>
    public const string ProgressDeadlineExceeded = "DeploymentProgressDeadlineExceeded";

    /// <summary>Undo: no ReplicaSet has the requested (or any previous) revision.</summary>
    public const string RevisionNotFound = "DeploymentRevisionNotFound";

    /// <summary>-Match is not a valid regular expression.</summary>
    public const string LogPatternInvalid = "LogPatternInvalid";

    /// <summary>-Tail or -Since out of range.</summary>
    public const string LogRangeInvalid = "LogRangeInvalid";

    /// <summary>-Timeout is zero or negative.</summary>
    public const string TimeoutInvalid = "KubernetesTimeoutInvalid";

    /// <summary>A namespace, deployment, ConfigMap or key name that Kubernetes would refuse (not a DNS label/subdomain).</summary>
    public const string NameInvalid = "KubernetesNameInvalid";
}
