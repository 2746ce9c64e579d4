@{
    Synopsis     = 'Runs alembic upgrade, downgrade or stamp against a database, judged before it runs, with its output on the verbose stream and the outcome in the audit ledger.'
    Description  = @'
Invoke-PmsMigration runs the playbook's "alembic upgrade head", "alembic downgrade -1" and "alembic stamp head". Before
alembic starts it reads the database's current revision and the scripts (as Get-PmsMigration does), resolves the
target to concrete revisions, and works out which revisions will run. Then:

  - A downgrade that crosses a Destructive or Unknown revision is refused with MigrationDataLossRefused unless
    -AllowDataLoss is given -- with -Force, -Confirm:$false, in a script or a pipeline alike. Nothing is changed.
  - Relative steps are refused where alembic would guess: -Downgrade -1 with two current heads (alembic 1.8 picks
    one branch with only a warning) or across a merge point (alembic: "Ambiguous walk"). Name the revision instead.
  - The audit ledger is checked before alembic runs: a schema change that cannot be audited does not happen.

alembic runs on this machine (-Via Local) with DATABASE_URL set in its environment only, as a SQLAlchemy
postgresql+psycopg2 URL built from -ConnectionString; the project's env.py must read DATABASE_URL (as the playbook's
does). Each line alembic prints is written to the verbose stream as it arrives, with the password masked. The outcome
is read back from alembic_version, so To is what the database really records.

Every run that started alembic writes one event: migration_applied (upgrade), migration_reverted (downgrade) or
migration_stamped (stamp), with the reason, ticket, user and, in details, from_revisions, to_revisions,
target_revisions, the crossed revisions with their classification, alembic's steps and exit code. A failed run is
recorded too (outcome failed) and ends with AlembicFailed, saying where the database was left; PostgreSQL's
transactional DDL normally leaves it unchanged.

-WhatIf prints alembic's offline --sql preview for exactly this range (from the current revision to the target) and
changes nothing: not the database, not the ledger. A downgrade that would be refused is also warned about.

Upgrade asks for confirmation like any Medium-impact command; downgrade and stamp behave as ConfirmImpact High and
ask unless -Force or -Confirm:$false is given.

-Via Pod runs alembic inside a Ready pod of -Deployment through the Kubernetes exec API, as the playbook's
"kubectl exec deployment/pms-backend -- alembic upgrade head" does: with the container's own DATABASE_URL and the
alembic.ini in its working directory (or -PodAlembicConfig). The pod is chosen once (Ready, Running, newest first) and
"alembic --version" is run there before anything else, so a missing executable fails with AlembicNotFound and no
Ready pod with MigrationNoReadyPod, both before anything changes. The plan, the refusals and the events are the same
as for Local; -ScriptLocation is still read on this machine (the same scripts as in the image) and -ConnectionString
is still needed to read the current revision. If the exec connection ends before alembic's exit code arrives, the
command fails with PodExecConnectionLost: alembic may still be running in the pod, so the run is recorded with
outcome unknown and the revision the database shows at that moment.
'@
    Parameters   = @{
        Upgrade          = 'Upgrade to this target: head (the single head), heads, a revision id or unique prefix, a branch label, label@head, or +N. A target below the current revision fails with MigrationInvalidDirection.'
        Downgrade        = 'Downgrade to this target: -N (a relative step, -1 for the playbook''s "downgrade -1"), a revision id or prefix, a branch label, or base. A target that is not below the current revision fails with MigrationInvalidDirection.'
        Stamp            = 'Record this revision in alembic_version without running any migration (the playbook''s "alembic stamp head", for a migration that completed but was not recorded).'
        ScriptLocation   = 'The alembic project: its alembic.ini, or the script directory or versions folder below one. Running alembic needs the alembic.ini; without one the command fails with AlembicIniNotFound.'
        ConnectionString = 'The database: an Npgsql connection string or a postgresql:// URL. Defaults to $env:DATABASE_URL. The password never appears in output, verbose text, errors or the ledger.'
        TimeoutSec       = 'Seconds to wait for the connection when reading the current revision; default 15. alembic''s own run is not limited.'
        Reason           = 'Why the schema changes, for the audit record. Required; an empty or blank reason fails with ReasonRequired.'
        ApprovalTicket   = 'The change ticket to record with the event.'
        Environment      = 'The environment the database belongs to (for example production), recorded with the event. Accepts pipeline input by property name.'
        User             = 'Who is migrating, as recorded in the event''s user_id. Defaults to $env:GITHUB_ACTOR, then $env:BUILD_REQUESTEDFOREMAIL, then the operating-system user name.'
        Ledger           = 'The audit ledger, as returned by Connect-FlagLedger -NoDefault. Defaults to the session''s ledger, or the default ledger (see Connect-FlagLedger).'
        Via              = 'Where alembic runs. Local (the default) runs the alembic executable on this machine; Pod runs it inside a Ready pod of -Deployment through the Kubernetes exec API.'
        AlembicPath      = 'The alembic executable; default /usr/bin/alembic (Debian''s package) for -Via Local, and "alembic" on the container''s PATH for -Via Pod. A missing executable fails with AlembicNotFound before anything is read or changed.'
        Namespace        = '-Via Pod: the namespace of the deployment; default pms.'
        Deployment       = '-Via Pod: the deployment whose pod runs alembic; default pms-backend. A missing one fails with DeploymentNotFound.'
        Container        = '-Via Pod: the container to run alembic in; default the pod''s first container. A container the pod does not have fails with KubernetesContainerNotFound.'
        PodAlembicConfig = '-Via Pod: the path of alembic.ini inside the container, passed as -c; default the alembic.ini in the container''s working directory.'
        KubeConfig       = '-Via Pod: the kubeconfig file. Default: $env:KUBECONFIG, then ~/.kube/config, then the pod''s service account.'
        KubeContext      = '-Via Pod: the kubeconfig context to use; default its current context.'
        AllowDataLoss    = 'Consent to run a downgrade that crosses Destructive or Unknown revisions. Back the data up first.'
        Force            = 'Runs without asking for confirmation.'
        WhatIf           = 'Prints alembic''s offline --sql preview of the change and the revisions it crosses, without changing the database or writing to the ledger. Nothing is returned.'
        Confirm          = 'Asks for confirmation. Downgrade and stamp ask by default; -Confirm:$false or -Force turns the prompt off.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Migrations.MigrationResult' = 'Action, Requested, Database, From, To (read back from the database), Target, Steps (alembic''s "Running upgrade A -> B" lines), Crossed (revisions with classification), Succeeded, Via, StartedAt, Duration, AuditSequence and AuditSpooled.'
    }
    Examples     = @(
        @{
            Title   = 'Preview, then run, the release''s migrations (playbook Step 2)'
            Code    = @'
$env:DATABASE_URL = 'postgresql://pms@db.internal:5432/pms'
Invoke-PmsMigration -Upgrade head -ScriptLocation ./apps/backend/alembic.ini -Reason 'Release 2.4' -WhatIf
Invoke-PmsMigration -Upgrade head -ScriptLocation ./apps/backend/alembic.ini -Reason 'Release 2.4' -ApprovalTicket TICKET-12345 -Verbose
'@
            Remarks = 'The first command prints the SQL alembic would run; the second runs it, streams alembic''s output with -Verbose, and records migration_applied.'
        }
        @{
            Title   = 'Planned rollback: one revision down (playbook "alembic downgrade -1")'
            Code    = 'Invoke-PmsMigration -Downgrade -1 -ScriptLocation ./apps/backend/alembic.ini -Reason ''Planned rollback of telehealth'' -ApprovalTicket TICKET-12346 -Force'
            Remarks = 'Refused with MigrationDataLossRefused if that revision''s downgrade drops a table or column; add -AllowDataLoss after a backup.'
        }
        @{
            Title   = 'Run the release''s migrations inside a backend pod ("kubectl exec deployment/pms-backend -- alembic upgrade head")'
            Code    = 'Invoke-PmsMigration -Upgrade head -Via Pod -Namespace pms -Deployment pms-backend -ScriptLocation ./apps/backend/alembic.ini -Reason ''Release 2.4'' -Verbose'
            Remarks = 'alembic runs in a Ready pod with the pod''s DATABASE_URL; its output streams to the verbose stream and the event records "via": "pod pms/<pod>".'
        }
        @{
            Title   = 'Record a migration that completed but was not recorded ("alembic stamp head")'
            Code    = 'Invoke-PmsMigration -Stamp head -ScriptLocation ./apps/backend/alembic.ini -Reason ''Migration 0005 ran, version row missing'' -Confirm:$false'
            Remarks = 'Only alembic_version changes; the stamp is recorded as migration_stamped with the revisions before and after.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.InvokePmsMigrationCommand"):
MigrationDataLossRefused, MigrationRevisionNotFound, MigrationRevisionAmbiguous, MigrationInvalidDirection,
MigrationCurrentRevisionUnknown, MigrationCurrentChanged (the database moved between planning and running), AlembicNotFound,
AlembicIniNotFound, AlembicFailed, MigrationScriptLocationNotFound, MigrationScriptsWithoutRevisions,
DatabaseConnectionStringMissing, DatabaseConnectionStringInvalid, DatabaseUnreachable, DatabaseAuthenticationFailed,
ReasonRequired, LedgerUnwritable; with -Via Pod also MigrationNoReadyPod, DeploymentNotFound, KubernetesContainerNotFound, KubernetesApiRejected and
PodExecConnectionLost (the only one after alembic started). Every refusal happens before alembic starts, so nothing is
changed.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-PmsMigration', 'Test-PmsDatabase', 'Get-PmsDatabaseTable', 'Get-FlagAudit')
}
