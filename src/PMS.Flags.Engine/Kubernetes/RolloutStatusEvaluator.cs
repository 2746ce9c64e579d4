namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// <c>kubectl rollout status</c>'s decision for a Deployment (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go),
/// so "done" here means exactly what operators see there: the controller observed the latest generation, the progress
/// deadline was not exceeded, every desired replica is updated, no old replica is left, and every updated one is available.
/// </summary>
public static class RolloutStatusEvaluator
{
    public const string TimedOutReason = "ProgressDeadlineExceeded";

    public static RolloutProgress Evaluate(DeploymentSnapshot d, string name)
    {
        if (d.Generation > d.ObservedGeneration)
        {
            return new RolloutProgress(false, false, "Waiting for deployment spec update to be observed...", d);
        }

        if (d.ProgressingReason == TimedOutReason)
        {
            return new RolloutProgress(false, true, $"deployment \"{name}\" exceeded its progress deadline", d);
        }

        if (d.UpdatedReplicas < d.SpecReplicas)
        {
            return new RolloutProgress(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {d.UpdatedReplicas} out of {d.SpecReplicas} new replicas have been updated...", d);
        }

        if (d.Replicas > d.UpdatedReplicas)
        {
            return new RolloutProgress(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {d.Replicas - d.UpdatedReplicas} old replicas are pending termination...", d);
        }

        if (d.AvailableReplicas < d.UpdatedReplicas)
        {
            return new RolloutProgress(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {d.AvailableReplicas} of {d.UpdatedReplicas} updated replicas are available...", d);
        }

        return new RolloutProgress(true, false, $"deployment \"{name}\" successfully rolled out", d);
    }
}
