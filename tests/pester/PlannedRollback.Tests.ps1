#Requires -Version 7.4
# Invoke-PlannedRollback end to end on the local flag store, a real PostgreSQL 15 and the real alembic 1.8, with the
# fixture project (0001 base, 0002/0003 branches, 0003 destructive, 0004 merge, 0005 head, reversible).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:savedDatabaseUrl = $env:DATABASE_URL
    $env:DATABASE_URL = $null
    $script:db = New-TestDatabase 'plannedrb'
    $script:cs = $db.ConnectionString
    $script:password = $db.Password
    $script:alembicUrl = "postgresql+psycopg2://$($db.User):$($db.Password)@$($db.Host):$($db.Port)/$($db.Name)"
    $script:projectRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-plannedrb-' + [guid]::NewGuid().ToString('N'))
    Copy-Item -Recurse (Join-Path $env:PMS_FLAGS_REPO 'tests/fixtures/alembic-project') $projectRoot
    $script:ini = Join-Path $projectRoot 'alembic.ini'
    $script:flag = 'telehealth_appointments_enabled'
    $script:document = $script:SampleDocument.Replace('"production": {
    "telehealth_appointments_enabled": false', '"production": {
    "telehealth_appointments_enabled": true')

    function Invoke-RealAlembic {
        $env:DATABASE_URL = $script:alembicUrl
        try { $out = & /usr/bin/alembic -c $script:ini @args 2>$null; if ($LASTEXITCODE) { throw "alembic $args failed ($LASTEXITCODE)" }; ($out -join "`n").Trim() }
        finally { $env:DATABASE_URL = $null }
    }

    function Reset-World([string[]] $Revision) {
        <# An empty schema migrated by real alembic to each revision, the flag on in production, an empty ledger. #>
        $null = Invoke-TestPostgresSql 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' $script:db.Name
        foreach ($r in $Revision) { $null = Invoke-RealAlembic upgrade $r }
        [IO.File]::WriteAllText($script:sandbox.FlagFile, $script:document)
        if (Test-Path -LiteralPath $script:sandbox.LedgerPath) { Remove-Item -LiteralPath $script:sandbox.LedgerPath }
        $script:sandbox.Ledger = Connect-FlagLedger -Path $script:sandbox.LedgerPath 3>$null
    }

    function Get-DatabaseState {
        $version = if ((Invoke-TestPostgresSql "SELECT to_regclass('alembic_version') IS NOT NULL" $script:db.Name) -eq 't') { Invoke-TestPostgresSql "SELECT coalesce(string_agg(version_num, ',' ORDER BY version_num), '<none>') FROM alembic_version" $script:db.Name } else { '<no table>' }
        $columns = Invoke-TestPostgresSql "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'" $script:db.Name
        $indexes = Invoke-TestPostgresSql "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'" $script:db.Name
        "version=$version; columns=$columns; indexes=$indexes"
    }

    function Get-WorldState { "$(Get-DatabaseState) | $(Get-FileSnapshot $script:sandbox.FlagFile, $script:sandbox.LedgerPath)" }

    function Get-FlagOn { (Get-Flag -Flag $script:flag -Environment production).On }

    $script:sandbox = New-FlagSandbox -Document $script:document
    $script:common = @{ Flag = $flag; Environment = 'production'; ScriptLocation = $ini; ConnectionString = $cs; Reason = 'Planned rollback of telehealth 2.4'; ApprovalTicket = 'TICKET-12346' }
}

AfterAll {
    Remove-FlagSandbox $script:sandbox
    Remove-TestDatabase $script:db
    if (Test-Path -LiteralPath $script:projectRoot) { Remove-Item -LiteralPath $script:projectRoot -Recurse -Force }
    $env:DATABASE_URL = $script:savedDatabaseUrl
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Invoke-PlannedRollback' -Tag PlannedRollback {
    It 'runs the playbook''s sequence: flag off, stabilize, downgrade -1, verify; a row per step and every step in the ledger stream' {
        Reset-World 'head'
        Get-FlagOn | Should -BeTrue
        $result = Invoke-PlannedRollback @common -StabilizeFor 00:00:01 -Force
        $result.Succeeded | Should -BeTrue
        $result.Resumed | Should -BeFalse
        $result.FlagOff | Should -BeTrue
        $result.DatabaseRevision | Should -Be '0004'
        @($result.Steps.Step) | Should -Be @('FlagOff', 'Stabilize', 'Downgrade', 'VerifyRevision', 'UndoDeployment', 'HealthCheck')
        @($result.Steps.Status) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Skipped', 'Skipped')
        ($result.Steps | Where-Object Step -eq 'Stabilize').Duration | Should -BeGreaterThan ([timespan]::FromMilliseconds(500))
        Get-FlagOn | Should -BeFalse
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'

        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        @($events.event_type) | Should -Be @('planned_rollback_started', 'feature_flag_toggled', 'planned_rollback_step', 'planned_rollback_step', 'migration_reverted', 'planned_rollback_step', 'planned_rollback_step', 'planned_rollback_completed')
        $stream = @($events | Where-Object { $_.event_type -like 'planned_rollback_*' })
        @($stream.rollout_id | Select-Object -Unique) | Should -Be @('planned-rollback:production/telehealth_appointments_enabled')
        @($stream | Where-Object event_type -eq 'planned_rollback_step' | ForEach-Object { $_.details.step }) | Should -Be @('FlagOff', 'Stabilize', 'Downgrade', 'VerifyRevision')
        @($stream[0].details.target_revisions) | Should -Be @('0004')
        ($events | Where-Object event_type -eq 'migration_reverted').approval_ticket | Should -Be 'TICKET-12346'
        (Test-FlagAuditChain).Valid | Should -BeTrue
    }

    It 'a failing downgrade stops the sequence with the flag off and the failure recorded; the same command resumes at the downgrade' {
        Reset-World 'head'
        # 0005's downgrade drops ix_settings_key_lower: without it, alembic fails and PostgreSQL rolls the downgrade back.
        $null = Invoke-TestPostgresSql 'DROP INDEX ix_settings_key_lower' $db.Name
        $failure = $null
        try { Invoke-PlannedRollback @common -StabilizeFor 0 -Force -ErrorAction Stop -Verbose 4>$null } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'PlannedRollbackStepFailed,PMS.Flags.Cmdlets.Commands.InvokePlannedRollbackCommand'
        $failure.Exception.Message | Should -BeLike '*stopped at Downgrade*AlembicFailed*the flag is OFF; the database is at 0005 (target 0004)*'
        $failure.Exception.Message.Contains($password) | Should -BeFalse
        @($failure.TargetObject.Steps.Status) | Should -Be @('Succeeded', 'Succeeded', 'Failed', 'NotRun', 'NotRun', 'NotRun')
        Get-FlagOn | Should -BeFalse
        Invoke-RealAlembic current | Should -Be '0005 (head)'
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        $events[-2].event_type | Should -Be 'migration_reverted'
        $events[-2].outcome | Should -Be 'failed'
        $events[-1].event_type | Should -Be 'planned_rollback_step'
        $events[-1].details.step | Should -Be 'Downgrade'
        $events[-1].outcome | Should -Be 'failed'

        $null = Invoke-TestPostgresSql 'CREATE INDEX ix_settings_key_lower ON settings (lower(key))' $db.Name
        $resumed = Invoke-PlannedRollback @common -StabilizeFor 0 -Force
        $resumed.Succeeded | Should -BeTrue
        $resumed.Resumed | Should -BeTrue
        @($resumed.Steps.Status) | Should -Be @('DoneEarlier', 'DoneEarlier', 'Succeeded', 'Succeeded', 'Skipped', 'Skipped')
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'
        @(Read-LedgerLine $sandbox.LedgerPath | Where-Object event_type -eq 'feature_flag_toggled').Count | Should -Be 1
        (Read-LedgerLine $sandbox.LedgerPath)[-1].event_type | Should -Be 'planned_rollback_completed'
    }

    It 'a rollback killed after the flag step resumes at the downgrade: the flag step is not repeated, the wait counts from the flag-off' {
        Reset-World 'head'
        $work = Join-Path $sandbox.Root 'killed'
        $null = New-Item -ItemType Directory -Force $work
        $script = Join-Path $work 'rollback.ps1'
        Set-Content -LiteralPath $script -Value @'
param($module, $flagFile, $ledger, $ini, $cs)
Import-Module $module
$null = Connect-FlagStore -Path $flagFile
$null = Connect-FlagLedger -Path $ledger 3>$null
Invoke-PlannedRollback -Flag telehealth_appointments_enabled -Environment production -ScriptLocation $ini -ConnectionString $cs -Reason 'Planned rollback of telehealth 2.4' -ApprovalTicket TICKET-12346 -StabilizeFor 01:00:00 -Force
'@
        $child = Start-ChildPwsh -ScriptPath $script -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $sandbox.LedgerPath, $ini, $cs
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while (-not (Test-Path -LiteralPath $sandbox.LedgerPath) -or -not @(Read-LedgerLine $sandbox.LedgerPath | Where-Object { $_.event_type -eq 'planned_rollback_step' -and $_.details.step -eq 'FlagOff' })) {
                if ([DateTime]::UtcNow -gt $deadline -or $child.Process.HasExited) { throw "The child never recorded the flag step: $($child.Stderr.Result)" }
                Start-Sleep -Milliseconds 200
            }
            Start-Sleep -Milliseconds 500
            $child.Process.HasExited | Should -BeFalse -Because 'it is stabilizing for an hour'
        }
        finally { Stop-Process -Id $child.Process.Id -Force -ErrorAction SilentlyContinue; $child.Process.WaitForExit(10000) }
        Get-FlagOn | Should -BeFalse
        Invoke-RealAlembic current | Should -Be '0005 (head)'

        $resumed = Invoke-PlannedRollback @common -StabilizeFor 00:00:01 -Force
        $resumed.Resumed | Should -BeTrue
        @($resumed.Steps.Status) | Should -Be @('DoneEarlier', 'Succeeded', 'Succeeded', 'Succeeded', 'Skipped', 'Skipped')
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        @($events | Where-Object event_type -eq 'feature_flag_toggled').Count | Should -Be 1
        @($events | Where-Object event_type -eq 'planned_rollback_started').Count | Should -Be 1
        @($events | Where-Object event_type -eq 'migration_reverted').Count | Should -Be 1
        $events[-1].event_type | Should -Be 'planned_rollback_completed'
    }

    It 'a destructive downgrade without -AllowDataLoss is refused before the flag is touched; nothing changes' {
        Reset-World '0003'
        $before = Get-WorldState
        { Invoke-PlannedRollback @common -StabilizeFor 0 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'MigrationDataLossRefused,PMS.Flags.Cmdlets.Commands.InvokePlannedRollbackCommand'
        Get-WorldState | Should -Be $before
        Get-FlagOn | Should -BeTrue
    }

    It 'runs the destructive downgrade with -AllowDataLoss' {
        Reset-World '0003'
        $result = Invoke-PlannedRollback @common -StabilizeFor 0 -AllowDataLoss -Force
        $result.DatabaseRevision | Should -Be '0001'
        (Read-LedgerLine $sandbox.LedgerPath | Where-Object event_type -eq 'migration_reverted').details.allow_data_loss | Should -BeTrue
    }

    It '-WhatIf prints the whole plan with each revision''s classification and changes nothing' {
        Reset-World '0003'
        $before = Get-WorldState
        $all = @(Invoke-PlannedRollback @common -WhatIf 6>&1 3>&1)
        $text = ($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | Out-String)
        $text | Should -BeLike '*1 FlagOff*now on*2 Stabilize*00:05:00*3 Downgrade*0003 -> 0001*0003 Destructive*4 VerifyRevision*0001*5 UndoDeployment*skipped*6 HealthCheck*skipped*'
        ($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -BeLike '*would be refused*0003 (Destructive)*'
        @($all | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] -and $_ -isnot [System.Management.Automation.WarningRecord] }).Count | Should -Be 0
        Get-WorldState | Should -Be $before
    }

    It 'a failing health check stops at the last step, with the flag off and the database at the target' {
        Reset-World 'head'
        $closed = Get-FreeTcpPort
        $failure = $null
        try { Invoke-PlannedRollback @common -StabilizeFor 0 -HealthUri "http://127.0.0.1:$closed/health" -Force -ErrorAction Stop } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'PlannedRollbackStepFailed,PMS.Flags.Cmdlets.Commands.InvokePlannedRollbackCommand'
        $failure.Exception.Message | Should -BeLike '*stopped at HealthCheck*PlannedRollbackUnhealthy*the flag is OFF; the database is at 0004*'
        @($failure.TargetObject.Steps.Status) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Skipped', 'Failed')
        (Read-LedgerLine $sandbox.LedgerPath)[-1].outcome | Should -Be 'failed'
    }
}

Describe 'Invoke-PlannedRollback bad inputs: stable ErrorIds, nothing changed' -Tag PlannedRollback {
    It '<Name>' -ForEach @(
        @{ Name = 'no ticket in production'; Id = 'ApprovalTicketRequired'; Extra = @{ ApprovalTicket = $null } }
        @{ Name = 'a blank reason'; Id = 'ReasonRequired'; Extra = @{ Reason = ' ' } }
        @{ Name = 'a negative -StabilizeFor'; Id = 'PlannedRollbackStabilizeInvalid'; Extra = @{ StabilizeFor = [timespan]::FromSeconds(-1) } }
        @{ Name = 'an unknown -MigrationTarget'; Id = 'MigrationRevisionNotFound'; Extra = @{ MigrationTarget = '0099' } }
        @{ Name = 'an ambiguous -1 with two heads'; Id = 'MigrationRevisionAmbiguous'; Revision = @('0002', '0003'); Extra = @{ AllowDataLoss = $true } }
        @{ Name = 'a missing alembic executable'; Id = 'AlembicNotFound'; Extra = @{ AlembicPath = '/nonexistent/alembic' } }
        @{ Name = 'a scripts folder without revisions'; Id = 'MigrationScriptsWithoutRevisions'; Extra = @{ ScriptLocation = 'EMPTY' } }
        @{ Name = 'an unreachable database'; Id = 'DatabaseUnreachable'; Extra = @{ ConnectionString = 'CLOSED' } }
    ) {
        Reset-World $(if ($Revision) { $Revision } else { 'head' })
        $arguments = $common.Clone()
        foreach ($k in $Extra.Keys) { $arguments[$k] = $Extra[$k] }
        if ($arguments.ScriptLocation -eq 'EMPTY') { $arguments.ScriptLocation = (New-Item -ItemType Directory -Force (Join-Path $sandbox.Root 'empty-versions')).FullName }
        if ($arguments.ConnectionString -eq 'CLOSED') { $arguments.ConnectionString = "Host=127.0.0.1;Port=$(Get-FreeTcpPort);Username=postgres;Password=$password;Database=x;Timeout=3" }
        if ($null -eq $arguments.ApprovalTicket) { $arguments.Remove('ApprovalTicket') }
        if (-not $arguments.ContainsKey('StabilizeFor')) { $arguments.StabilizeFor = [timespan]::Zero }
        $before = Get-WorldState
        $failure = $null
        try { $null = Invoke-PlannedRollback @arguments -Force -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -Be "$Id,PMS.Flags.Cmdlets.Commands.InvokePlannedRollbackCommand"
        $failure.Exception.Message.Contains($password) | Should -BeFalse
        Get-WorldState | Should -Be $before
        Get-FlagOn | Should -BeTrue
    }
}

Describe 'Invoke-PlannedRollback -Via Pod -UndoDeployment (the Kubernetes stand-in)' -Tag PlannedRollback, PlannedRollbackPod {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
        $script:kube = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2
        $script:kubeConfig = New-StandInKubeConfig -Server $kube -Path (Join-Path $sandbox.Root 'kubeconfig')
        $script:headers = @{ Authorization = "Bearer $script:KubeToken" }
        $script:deploymentUri = "$($kube.BaseUri)/apis/apps/v1/namespaces/pms/deployments/pms-backend"
        function Wait-StandInSettled {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                Start-Sleep -Milliseconds 200
                $d = Invoke-RestMethod -Uri $deploymentUri -Headers $headers
                $pods = @((Get-StandInState $kube).pods)
                $settled = $d.status.observedGeneration -eq $d.metadata.generation -and $d.status.updatedReplicas -eq $d.spec.replicas -and $pods.Count -eq $d.spec.replicas -and @($pods | Where-Object { -not $_.ready }).Count -eq 0
            } until ($settled -or [DateTime]::UtcNow -gt $deadline)
            if (-not $settled) { throw 'The stand-in deployment did not settle.' }
        }
        # Release 2.4: the pods get the alembic project and DATABASE_URL (revision 2 of the deployment).
        $patch = @{ spec = @{ template = @{ spec = @{ containers = @(@{ name = 'backend'; workingDir = $projectRoot; env = @(@{ name = 'DATABASE_URL'; value = $alembicUrl }) }) } } } } | ConvertTo-Json -Depth 10
        $null = Invoke-RestMethod -Method Patch -Uri $deploymentUri -ContentType 'application/strategic-merge-patch+json' -Headers $headers -Body $patch
        Wait-StandInSettled
    }

    AfterAll { Stop-KubernetesStandIn $kube }

    It 'downgrades inside a pod, rolls the deployment back to its previous revision, and checks the deployment and -HealthUri' {
        Reset-World 'head'
        Clear-KubeRequests $kube
        (Invoke-RestMethod -Uri $deploymentUri -Headers $headers).metadata.annotations.'deployment.kubernetes.io/revision' | Should -Be '2'
        $result = Invoke-PlannedRollback @common -StabilizeFor 0 -Via Pod -UndoDeployment -KubeConfig $kubeConfig -HealthUri "$($kube.BaseUri)/svc/pms/pms-backend/health" -Force
        @($result.Steps.Status) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded')
        ($result.Steps | Where-Object Step -eq 'Downgrade').Detail | Should -BeLike '*0005 -> 0004*pod pms/pms-backend-*'
        ($result.Steps | Where-Object Step -eq 'UndoDeployment').Detail | Should -BeLike '*rolled back from revision 2 to *'
        Invoke-RealAlembic current | Should -Be '0004 (mergepoint)'
        (Invoke-RestMethod -Uri $deploymentUri -Headers $headers).metadata.annotations.'deployment.kubernetes.io/revision' | Should -Be '3'
        @(Get-KubeRequests $kube | Where-Object { $_.path -like '*/exec' -and $_.query -like '*downgrade*' }).Count | Should -Be 1
        $events = @(Read-LedgerLine $sandbox.LedgerPath)
        @($events.event_type) | Should -Contain 'deployment_undone'
        ($events | Where-Object event_type -eq 'migration_reverted').details.via | Should -BeLike 'pod pms/*'
        $events[-1].event_type | Should -Be 'planned_rollback_completed'
    }
}
