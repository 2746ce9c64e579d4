namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// Turns store state, pod start times and what the application reports into one verdict and the fix the playbook's
/// "flag not taking effect" section recommends. Pure, so every branch is tested without a cluster.
/// </summary>
public static class PropagationJudge
{
    public static (PropagationVerdict Verdict, string Recommendation) Judge(FlagValue? store, IReadOnlyList<PodFlagReport> pods, int desiredReplicas, bool rolloutDone, string? statusError, string deployment, string ns)
    {
        var restart = $"Restart-PmsDeployment -Namespace {ns} -Deployment {deployment} -Wait (kubectl rollout restart deployment/{deployment} -n {ns})";
        if (store is null)
        {
            return (PropagationVerdict.FlagNotInStore, "The store has no such flag in that environment: check the flag key and environment (Get-Flag), then set it with Set-FlagPercentage or Enable-Flag.");
        }

        var stale = pods.Where(p => p.StartedAfterConfigChange == false).Select(p => p.Pod).ToArray();
        if (!rolloutDone || pods.Any(p => !p.Ready) || pods.Count < desiredReplicas)
        {
            var notReady = pods.Count(p => !p.Ready);
            return (PropagationVerdict.RolloutInProgress, $"A rollout is under way ({pods.Count(p => p.Ready)}/{desiredReplicas} pods ready{(notReady > 0 ? $", {notReady} not ready" : "")}): wait for it (Get-PmsDeploymentHealth); if pods crash-loop, read Get-PmsLog and consider Undo-PmsDeployment.");
        }

        var mismatched = pods.Where(p => p.Matches == false || p.FlagMissing).ToArray();
        if (stale.Length > 0 && (statusError is not null || mismatched.Length > 0 || pods.All(p => p.Reported is null)))
        {
            return (PropagationVerdict.PodsStale, $"{stale.Length} pod(s) started before the ConfigMap changed and still serve the old value ({string.Join(", ", stale)}): {restart}.");
        }

        if (statusError is not null)
        {
            return (PropagationVerdict.StatusUnavailable, $"The status endpoint could not be read ({statusError}); every pod started after the last change, so they should have read it. Check the URL and token, then run this again.");
        }

        if (mismatched.Length > 0)
        {
            var missing = mismatched.Any(p => p.FlagMissing);
            return (PropagationVerdict.AppDisagrees, missing
                ? $"Pods started after the change but their status lacks the flag ({string.Join(", ", mismatched.Select(p => p.Pod))}): the application reads another key, file or environment than the store writes; compare the ConfigMap key and the app's FEATURE_FLAGS path, and check Get-PmsLog -Match feature_flag."
                : $"Pods started after the change but report another value ({string.Join(", ", mismatched.Select(p => $"{p.Pod}: {p.Reported}"))}, store: {store}): the application caches flags or reads another environment; check Get-PmsLog -Match feature_flag and the app's flag cache.");
        }

        if (stale.Length > 0)
        {
            // They report the right value although they predate the change: the change did not alter this flag.
            return (PropagationVerdict.Propagated, $"Every pod reports {store}; {stale.Length} pod(s) predate the ConfigMap's last change, which did not alter this flag. Nothing to do.");
        }

        return (PropagationVerdict.Propagated, $"Every pod reports {store}. Nothing to do.");
    }
}
