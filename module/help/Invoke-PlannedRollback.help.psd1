@{
    Synopsis     = 'Runs the playbook''s planned rollback with a database migration as one audited, resumable sequence: flag off, stabilize, alembic downgrade, verify the revision, optionally undo the deployment, health check.'
    Description  = @'
Invoke-PlannedRollback follows the playbook's "Planned Rollback with Database Migration":

  1 FlagOff         the flag goes off in its store (recorded as feature_flag_toggled)
  2 Stabilize       wait -StabilizeFor (default 5 minutes) after the flag went off, with Write-Progress
  3 Downgrade       alembic downgrade to -MigrationTarget (default -1), on this machine or -Via Pod
                    (recorded as migration_reverted)
  4 VerifyRevision  the database is at the expected revision
  5 UndoDeployment  with -UndoDeployment: Undo-PmsDeployment -Namespace -Deployment, waiting for the rollout
  6 HealthCheck     with -UndoDeployment the deployment must be healthy; with -HealthUri the URI must answer 2xx

Everything that can refuse is checked before the flag is touched: the reason, -ApprovalTicket in a protected
environment (ApprovalTicketRequired), a downgrade that crosses a Destructive or Unknown revision without
-AllowDataLoss (MigrationDataLossRefused), a -MigrationTarget that is unknown or ambiguous, alembic missing, a ledger
that cannot be written.

Each step is a row of the result (Step, Status, Started, Duration, Detail). The first failing step stops the
sequence with PlannedRollbackStepFailed; the message and the result (the error's TargetObject) say what state things
were left in: whether the flag is off and at which revision the database is.

Every step is an event of one ledger stream, planned_rollback_started, planned_rollback_step and
planned_rollback_completed, with rollout_id "planned-rollback:<environment>/<flag>", appended through the same
fold-decide-append machinery as the rollouts. A run stays open until it completes, so running the same command again
after a crash, a Ctrl+C or a failed step RESUMES at the first unfinished step: steps already done show as DoneEarlier
and are not repeated, the downgrade goes to the revision resolved when the run started (a second "-1" never runs),
and the stabilization counts from when the flag went off.

-WhatIf prints the whole plan, with the revisions the downgrade crosses and each one's classification, and changes
nothing.
'@
    Parameters   = @{
        Flag              = 'The flag to switch off. Accepts pipeline input (by value, or by property name Flag or Key).'
        Environment       = 'The environment, for example production. Defaults to the store''s default environment.'
        Reason            = 'Why, for every audit record of the sequence. Required; blank fails with ReasonRequired.'
        ApprovalTicket    = 'The change ticket; required in a protected environment (ApprovalTicketRequired).'
        User              = 'Who runs the rollback, as recorded. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Store             = 'The flag store, as returned by Connect-FlagStore. Defaults to the session''s store.'
        Ledger            = 'The audit ledger, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger.'
        ScriptLocation    = 'The alembic project: its alembic.ini, or the script directory or versions folder below one; read here to plan and classify without Python.'
        ConnectionString  = 'The database: an Npgsql connection string or a postgresql:// URL. Defaults to $env:DATABASE_URL. The password never appears in output or the ledger.'
        StabilizeFor      = 'How long to wait after the flag went off before the downgrade; default 00:05:00. Counted from the flag-off, so a resumed run waits only for what is left. Negative fails with PlannedRollbackStabilizeInvalid.'
        MigrationTarget   = 'What to downgrade to: -1 (the default), -N, a revision id or prefix, a branch label, or base. Resolved once when the run starts.'
        AllowDataLoss     = 'Consent to a downgrade that crosses Destructive or Unknown revisions. Back the data up first.'
        Via               = 'Where alembic runs: Local (the default) or Pod (a Ready pod of -Deployment, through the Kubernetes exec API).'
        AlembicPath       = 'The alembic executable: /usr/bin/alembic by default for Local, "alembic" on the container''s PATH for Pod.'
        Namespace         = 'The namespace of the deployment (for -Via Pod and -UndoDeployment); default pms.'
        Deployment        = 'The deployment (for -Via Pod and -UndoDeployment); default pms-backend.'
        Container         = '-Via Pod: the container to run alembic in; default the pod''s first.'
        KubeConfig        = 'The kubeconfig file. Default: $env:KUBECONFIG, then ~/.kube/config, then the pod''s service account.'
        KubeContext       = 'The kubeconfig context to use; default its current context.'
        UndoDeployment    = 'Also roll the deployment back to its previous revision (Undo-PmsDeployment), wait for it, and check its health.'
        DeploymentTimeout = 'How long to wait for the deployment''s rollback; default 00:10:00.'
        HealthUri         = 'A URI that must answer 2xx at the end, for example the backend''s /health.'
        Force             = 'Runs without asking for confirmation.'
        WhatIf            = 'Prints the whole plan, with each crossed revision''s classification, and changes nothing.'
        Confirm           = 'Asks for confirmation (the default: ConfirmImpact High). -Confirm:$false or -Force turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.PlannedRollbacks.PlannedRollbackResult' = 'RollbackId, Flag, Environment, Steps (Step, Status, Started, Duration, Detail), Succeeded, Resumed, FlagOff, DatabaseRevision, TargetRevision and State.'
    }
    Examples     = @(
        @{
            Title   = 'The playbook''s planned rollback of a release, one revision down'
            Code    = @'
$rollback = Invoke-PlannedRollback -Flag telehealth_appointments_enabled -Environment production -ScriptLocation ./apps/backend/alembic.ini -StabilizeFor 00:00:05 -Reason 'Planned rollback of telehealth 2.4' -ApprovalTicket TICKET-12346 -Confirm:$false
$rollback.Steps | Format-Table
'@
            Remarks = 'Switches the flag off, waits 5 seconds (the playbook waits 5 minutes, the default), runs "alembic downgrade -1", checks the revision, and shows a row per step.'
        }
        @{
            Title   = 'Preview everything, including the classification of each revision the downgrade crosses'
            Code    = 'Invoke-PlannedRollback -Flag telehealth_appointments_enabled -Environment production -ScriptLocation ./apps/backend/alembic.ini -MigrationTarget 0003 -Reason ''Planned rollback'' -ApprovalTicket TICKET-12346 -WhatIf'
            Remarks = 'Nothing changes. A Destructive or Unknown revision is named, with a warning that the run would be refused without -AllowDataLoss.'
        }
        @{
            Title   = 'Resume after an interruption, with the migration in a pod and the deployment rolled back'
            Code    = 'Invoke-PlannedRollback -Flag telehealth_appointments_enabled -Environment production -ScriptLocation ./apps/backend/alembic.ini -Via Pod -UndoDeployment -HealthUri https://api.pms.example.com/health -Reason ''Planned rollback of telehealth 2.4'' -ApprovalTicket TICKET-12346 -Force'
            Remarks = 'If an earlier run of the same command was stopped, the steps it finished show as DoneEarlier and the run continues at the first unfinished one.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.InvokePlannedRollbackCommand"): before anything
changes: ReasonRequired, ApprovalTicketRequired, PlannedRollbackStabilizeInvalid, MigrationDataLossRefused,
MigrationRevisionNotFound, MigrationRevisionAmbiguous, MigrationInvalidDirection, AlembicNotFound, AlembicIniNotFound,
MigrationNoReadyPod, Database*, LedgerUnwritable; after a step failed: PlannedRollbackStepFailed (the inner error
names the step's own cause, for example AlembicFailed or PlannedRollbackUnhealthy); PlannedRollbackLedgerBusy.
'@
    RelatedLinks = @('about_PMS.Flags', 'Invoke-PmsMigration', 'Get-PmsMigration', 'Undo-PmsDeployment', 'Invoke-EmergencyRollback', 'Get-FlagAudit')
}
