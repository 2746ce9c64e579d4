using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Engine.Tests.Kubernetes;

/// <summary>The rollout-status decision, branch by branch, with kubectl's own messages.</summary>
public sealed class RolloutStatusEvaluatorTests
{
    private static readonly DeploymentSnapshot Done = new() { Generation = 3, ObservedGeneration = 3, SpecReplicas = 2, Replicas = 2, UpdatedReplicas = 2, ReadyReplicas = 2, AvailableReplicas = 2, ProgressingReason = "NewReplicaSetAvailable" };

    [Fact]
    public void A_generation_the_controller_has_not_observed_is_not_done_even_if_counts_look_complete()
    {
        var progress = RolloutStatusEvaluator.Evaluate(Done with { Generation = 4 }, "pms-backend");
        Assert.False(progress.Done);
        Assert.False(progress.Failed);
        Assert.Equal("Waiting for deployment spec update to be observed...", progress.Message);
    }

    [Fact]
    public void Progress_deadline_exceeded_fails()
    {
        var progress = RolloutStatusEvaluator.Evaluate(Done with { UpdatedReplicas = 1, Replicas = 3, ProgressingReason = "ProgressDeadlineExceeded" }, "pms-backend");
        Assert.True(progress.Failed);
        Assert.False(progress.Done);
        Assert.Equal("deployment \"pms-backend\" exceeded its progress deadline", progress.Message);
    }

    [Theory]
    [InlineData(1, 3, 2, "Waiting for deployment \"pms-backend\" rollout to finish: 1 out of 2 new replicas have been updated...")]
    [InlineData(2, 3, 2, "Waiting for deployment \"pms-backend\" rollout to finish: 1 old replicas are pending termination...")]
    [InlineData(2, 2, 1, "Waiting for deployment \"pms-backend\" rollout to finish: 1 of 2 updated replicas are available...")]
    public void Each_unfinished_state_waits_with_kubectls_message(int updated, int replicas, int available, string message)
    {
        var progress = RolloutStatusEvaluator.Evaluate(Done with { UpdatedReplicas = updated, Replicas = replicas, AvailableReplicas = available, ReadyReplicas = available, ProgressingReason = "ReplicaSetUpdated" }, "pms-backend");
        Assert.False(progress.Done);
        Assert.False(progress.Failed);
        Assert.Equal(message, progress.Message);
        Assert.InRange(progress.PercentComplete, 0, 99);
    }

    [Fact]
    public void Complete_when_observed_updated_no_old_and_all_available()
    {
        var progress = RolloutStatusEvaluator.Evaluate(Done, "pms-backend");
        Assert.True(progress.Done);
        Assert.Equal(100, progress.PercentComplete);
        Assert.Equal("deployment \"pms-backend\" successfully rolled out", progress.Message);
    }
}
