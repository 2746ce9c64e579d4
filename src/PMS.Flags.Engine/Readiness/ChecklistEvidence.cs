namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// How an item is satisfied. Only <see cref="Approval"/> takes a person's word; the others are checked against the
/// ledger or the alerting system every time readiness is evaluated, because a claim can be wrong and a fact cannot.
/// </summary>
public enum ChecklistEvidence
{
    /// <summary>Someone (not the checklist's creator, in a protected environment) approved it with evidence.</summary>
    Approval,

    /// <summary>The ledger holds a rollback of the flag in staging: an emergency rollback, a rolled-back rollout, or a switch from on to off.</summary>
    RollbackInStaging,

    /// <summary>The ledger holds a completed rollout of the flag in staging.</summary>
    StagingRollout,

    /// <summary>Approved with an alert-rule file or a Prometheus rules endpoint that really holds alerting rules.</summary>
    AlertRules,
}
