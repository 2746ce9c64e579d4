namespace PMS.Flags.Engine.Kubernetes;

public enum DeploymentRolloutOutcome
{
    /// <summary>Restarted (or undone) without waiting.</summary>
    NotWaited,

    Complete,

    ProgressDeadlineExceeded,

    TimedOut,
}
