namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>The events of one planned rollback's stream (their rollout_id is <c>planned-rollback:&lt;environment&gt;/&lt;flag&gt;</c>).</summary>
public static class PlannedRollbackEventTypes
{
    /// <summary>A run starts: its plan, with the downgrade target resolved once so a resumed run goes to the same revision.</summary>
    public const string Started = "planned_rollback_started";

    /// <summary>One step finished, succeeded or failed; a failed step leaves the run open, so running the command again resumes there.</summary>
    public const string Step = "planned_rollback_step";

    /// <summary>Every step succeeded; the next run of the command starts a new rollback.</summary>
    public const string Completed = "planned_rollback_completed";
}
