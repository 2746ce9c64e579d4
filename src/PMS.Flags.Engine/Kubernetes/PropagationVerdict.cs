namespace PMS.Flags.Engine.Kubernetes;

/// <summary>The playbook's "flag not taking effect" diagnosis as one answer.</summary>
public enum PropagationVerdict
{
    /// <summary>Every pod reports what the store holds.</summary>
    Propagated,

    /// <summary>Pods that started before the ConfigMap changed still serve the old value: restart the deployment.</summary>
    PodsStale,

    /// <summary>A rollout is under way (pods not ready or not yet replaced): wait for it.</summary>
    RolloutInProgress,

    /// <summary>Pods started after the change yet report another value: the application does not read what the store wrote.</summary>
    AppDisagrees,

    /// <summary>The store has no such flag in that environment.</summary>
    FlagNotInStore,

    /// <summary>The status endpoint could not be read; judged on pod start times alone, nothing stale found.</summary>
    StatusUnavailable,
}
