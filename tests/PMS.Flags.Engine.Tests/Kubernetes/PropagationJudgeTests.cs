using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Engine.Tests.Kubernetes;

/// <summary>The "flag not taking effect" verdict for each situation the playbook describes.</summary>
public sealed class PropagationJudgeTests
{
    private static readonly FlagValue Off = new(false, 0);
    private static readonly FlagValue On25 = new(true, 25);

    private static PodFlagReport Pod(string name, bool after, FlagValue? reported, bool ready = true, bool missing = false)
        => new() { Pod = name, Ready = ready, StartedAfterConfigChange = after, Reported = reported, FlagMissing = missing, Matches = reported is null || missing ? null : reported == Off };

    [Fact]
    public void Every_pod_reporting_the_store_value_is_propagated()
        => Assert.Equal(PropagationVerdict.Propagated, PropagationJudge.Judge(Off, new[] { Pod("a", true, Off), Pod("b", true, Off) }, 2, true, null, "pms-backend", "pms").Verdict);

    [Fact]
    public void Pods_started_before_the_change_reporting_the_old_value_need_a_restart()
    {
        var (verdict, fix) = PropagationJudge.Judge(Off, new[] { Pod("a", false, On25), Pod("b", false, On25) }, 2, true, null, "pms-backend", "pms");
        Assert.Equal(PropagationVerdict.PodsStale, verdict);
        Assert.Contains("Restart-PmsDeployment", fix, StringComparison.Ordinal);
        Assert.Contains("kubectl rollout restart deployment/pms-backend -n pms", fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Fresh_pods_reporting_another_value_mean_the_app_does_not_read_the_store()
        => Assert.Equal(PropagationVerdict.AppDisagrees, PropagationJudge.Judge(Off, new[] { Pod("a", true, On25), Pod("b", true, Off) }, 2, true, null, "pms-backend", "pms").Verdict);

    [Fact]
    public void Fresh_pods_without_the_flag_mean_the_app_reads_another_key()
    {
        var (verdict, fix) = PropagationJudge.Judge(Off, new[] { Pod("a", true, null, missing: true), Pod("b", true, null, missing: true) }, 2, true, null, "pms-backend", "pms");
        Assert.Equal(PropagationVerdict.AppDisagrees, verdict);
        Assert.Contains("lacks the flag", fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rollout_under_way_says_wait()
        => Assert.Equal(PropagationVerdict.RolloutInProgress, PropagationJudge.Judge(Off, new[] { Pod("a", true, Off), Pod("b", false, On25, ready: false) }, 2, false, null, "pms-backend", "pms").Verdict);

    [Fact]
    public void Without_the_status_endpoint_stale_pods_still_decide()
    {
        Assert.Equal(PropagationVerdict.PodsStale, PropagationJudge.Judge(Off, new[] { Pod("a", false, null) }, 1, true, "401", "pms-backend", "pms").Verdict);
        Assert.Equal(PropagationVerdict.StatusUnavailable, PropagationJudge.Judge(Off, new[] { Pod("a", true, null) }, 1, true, "401", "pms-backend", "pms").Verdict);
    }

    [Fact]
    public void A_flag_the_store_lacks_is_named()
        => Assert.Equal(PropagationVerdict.FlagNotInStore, PropagationJudge.Judge(null, new[] { Pod("a", true, Off) }, 1, true, null, "pms-backend", "pms").Verdict);
}
