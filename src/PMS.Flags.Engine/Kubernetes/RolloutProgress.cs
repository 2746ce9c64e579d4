namespace PMS.Flags.Engine.Kubernetes;

/// <summary>One reading of a deployment's rollout: done, failed, or still going, with kubectl's own wording.</summary>
public sealed record RolloutProgress(bool Done, bool Failed, string Message, DeploymentSnapshot Snapshot)
{
    /// <summary>0–100 for Write-Progress: updated and available replicas of the desired count.</summary>
    public int PercentComplete
    {
        get
        {
            if (Done)
            {
                return 100;
            }

            var want = Math.Max(1, Snapshot.SpecReplicas) * 2;
            var have = Math.Min(Snapshot.UpdatedReplicas, Snapshot.SpecReplicas) + Math.Min(Math.Min(Snapshot.AvailableReplicas, Snapshot.UpdatedReplicas), Snapshot.SpecReplicas);
            return Math.Clamp(have * 100 / want, 0, 99);
        }
    }
}
