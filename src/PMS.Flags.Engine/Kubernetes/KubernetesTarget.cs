using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// Where to connect and what to act on: a kubeconfig (or the default resolution: KUBECONFIG, ~/.kube/config, then the
/// in-cluster service account), a context, the namespace and the deployment. Carries no secret itself.
/// </summary>
public sealed partial record KubernetesTarget
{
    public string? KubeConfigPath { get; init; }

    public string? Context { get; init; }

    public string Namespace { get; init; } = "pms";

    public string Deployment { get; init; } = "pms-backend";

    /// <summary>Per-request timeout against the API server.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws KubernetesNameInvalid for a namespace or deployment Kubernetes would refuse.</summary>
    public void Validate()
    {
        RequireName(Namespace, "namespace", label: true);
        RequireName(Deployment, "deployment", label: false);
    }

    public override string ToString() => $"{Namespace}/{Deployment}{(Context is null ? "" : $" (context {Context})")}";

    internal static void RequireName(string? name, string what, bool label)
    {
        var ok = !string.IsNullOrEmpty(name) && (label ? name.Length <= 63 && DnsLabel().IsMatch(name) : name.Length <= 253 && DnsSubdomain().IsMatch(name));
        if (!ok)
        {
            throw new FlagsException(KubernetesErrorIds.NameInvalid, FlagsErrorKind.InvalidArgument, $"'{name}' is not a valid {what} name: lower-case letters, digits and '-'{(label ? "" : " or '.'")}, starting and ending with a letter or digit.", name);
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
