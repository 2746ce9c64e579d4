#Requires -Version 7.4
# The examples/ scripts, one per playbook section, run as a user would (a child pwsh importing the BUILT module)
# against the stand-ins and real services, and asserted on through what they leave behind: the flag document, the
# ledger, the files they write and what the receivers got: a real PostgreSQL 15 and alembic for the planned rollback,
# the Kubernetes stand-in (with its backend pods' status endpoint) for the ConfigMap examples, and the readiness gate ON
# for checklist.ps1.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:Examples = Join-Path $PSScriptRoot '../../examples'

    function Invoke-Example([string] $Name, [hashtable] $Parameters) {
        $arguments = @('-ModulePath', $env:PMS_FLAGS_MODULE)
        foreach ($key in $Parameters.Keys) {
            # A switch is passed by its name alone.
            if ($Parameters[$key] -is [bool]) { if ($Parameters[$key]) { $arguments += "-$key" } }
            else { $arguments += "-$key"; $arguments += "$($Parameters[$key])" }
        }
        $output = & $script:DotnetExe $script:PwshDll -NoProfile -NonInteractive -File (Join-Path $script:Examples $Name) @arguments 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }

    function New-ExampleRoot {
        $root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-example-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Force $root
        $flagFile = Join-Path $root 'feature_flags.json'
        [IO.File]::WriteAllText($flagFile, '{ "staging": { "new_reports": false, "telehealth_appointments_enabled": false }, "production": { "telehealth_appointments_enabled": { "enabled": true, "rollout_percentage": 25 } } }')
        [pscustomobject]@{ Root = $root; FlagFile = $flagFile; Ledger = Join-Path $root 'audit.jsonl' }
    }

    function Read-Ledger([string] $Path) { @(Get-Content -LiteralPath $Path | ForEach-Object { $_ | ConvertFrom-Json }) }

    $script:Secret = 'hook' + [guid]::NewGuid().ToString('N')
    $script:GrafanaToken = 'glsa_' + [guid]::NewGuid().ToString('N')
    $script:receivers = Start-NotificationStandIn -Secret $script:Secret -Token $script:GrafanaToken
}

AfterAll {
    Stop-StandIn $script:receivers
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'The playbook examples' -Tag Examples {
    BeforeEach { $example = New-ExampleRoot }
    AfterEach { if ($example -and (Test-Path -LiteralPath $example.Root)) { Remove-Item -LiteralPath $example.Root -Recurse -Force } }

    It 'local-rollout.ps1 (gradual rollout, emergency rollback, audit): 5/25/50/100 %, then off, with a valid chain' {
        $run = Invoke-Example 'local-rollout.ps1' @{ WorkDirectory = $example.Root }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $events = Read-Ledger (Join-Path $example.Root 'audit.jsonl')
        @($events | Where-Object event_type -EQ 'feature_flag_toggled' | ForEach-Object rollout_percentage)[0..3] | Should -Be @(5, 25, 50, 100)
        @($events.event_type) | Should -Contain 'emergency_rollback'
        (Get-Content -Raw (Join-Path $example.Root 'feature_flags.json') | ConvertFrom-Json).staging.telehealth_appointments_enabled | Should -BeFalse
    }

    It 'emergency-rollback.ps1: the flag off, verified and recorded first, then the rollback message to Slack' {
        $before = @(Get-NotificationReceived $script:receivers).Count
        $run = Invoke-Example 'emergency-rollback.ps1' @{ WorkDirectory = $example.Root; FlagFile = $example.FlagFile; WebhookUri = "$($script:receivers.BaseUri)/services/T0/B0/$($script:Secret)"; Kind = 'Slack' }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        (Get-Content -Raw $example.FlagFile | ConvertFrom-Json).production.telehealth_appointments_enabled.enabled | Should -BeFalse
        $types = @((Read-Ledger $example.Ledger).event_type)
        [array]::IndexOf($types, 'notification_sent') | Should -BeGreaterThan ([array]::IndexOf($types, 'emergency_rollback'))
        $slack = @(Get-NotificationReceived $script:receivers | Select-Object -Skip $before)
        $slack.Count | Should -Be 1
        $slack[0].body.text | Should -Match 'telehealth_appointments_enabled has been rolled back due to Error rate above 5% after rollout\.'
        $slack[0].body.text | Should -Match '(?m)^Incident ticket: INC-2001$'
        $run.Output | Should -Match 'Next steps: root-cause review before re-enabling'
        $run.Output | Should -Not -Match $script:Secret
    }

    It 'audit-query-export.ps1: queries the trail, checks the chain and exports JSON and CSV with the playbook''s fields' {
        $null = Invoke-Example 'emergency-rollback.ps1' @{ WorkDirectory = $example.Root; FlagFile = $example.FlagFile }
        $run = Invoke-Example 'audit-query-export.ps1' @{ WorkDirectory = $example.Root; LedgerPath = $example.Ledger }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $json = Get-Content -Raw (Join-Path $example.Root 'audit-production.json') | ConvertFrom-Json
        @($json).Count | Should -Be @(Read-Ledger $example.Ledger).Count
        @($json.event_type) | Should -Contain 'emergency_rollback'
        $csv = Import-Csv (Join-Path $example.Root 'audit-production.csv')
        @($csv).Count | Should -Be @($json).Count
        foreach ($field in 'timestamp', 'event_type', 'user_id', 'feature_flag', 'previous_state', 'new_state', 'environment', 'reason') { $csv[0].PSObject.Properties.Name | Should -Contain $field }
        $run.Output | Should -Match 'Valid\s*:\s*True'
    }

    It 'alert-rules.ps1: the playbook''s two alerts as a rule file that promtool accepts, and an Alertmanager guardrail' {
        $alertmanager = Start-TestAlertmanager -Directory $example.Root
        try {
            $run = Invoke-Example 'alert-rules.ps1' @{ WorkDirectory = $example.Root; PrometheusUri = 'http://127.0.0.1:9/'; AlertmanagerUri = $alertmanager.BaseUri }
        }
        finally { Stop-TestAlertmanager $alertmanager }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'SUCCESS: 2 rules found'
        $rules = Get-Content -Raw (Join-Path $example.Root 'alerts.yml')
        $rules | Should -Match '(?m)^      - alert: HighErrorRate\n        expr: rate\(http_requests_total\{status=~"5\.\."\}\[5m\]\) > 0\.05\n        for: 2m$'
        $run.Output | Should -Match 'HighErrorRate\s+Critical\s+Healthy'
    }

    It 'notifications.ps1: the pre-rollout message to Slack, Grafana annotations at each stage, the completion message, all recorded' {
        $before = @(Get-NotificationReceived $script:receivers).Count
        $env:PMS_EXAMPLE_GRAFANA_TOKEN = $script:GrafanaToken
        try {
            # A SecureString cannot cross a process boundary as text: the child makes it from an environment variable.
            $script = "& '$((Join-Path $script:Examples 'notifications.ps1'))' -ModulePath '$($env:PMS_FLAGS_MODULE)' -WorkDirectory '$($example.Root)' -FlagFile '$($example.FlagFile)' -SlackUri '$($script:receivers.BaseUri)/services/T0/B0/$($script:Secret)' -GrafanaUri '$($script:receivers.BaseUri)/grafana' -GrafanaToken (ConvertTo-SecureString `$env:PMS_EXAMPLE_GRAFANA_TOKEN -AsPlainText -Force)"
            $run = Invoke-ChildPwsh -Script $script -WorkDirectory $example.Root
        }
        finally { $env:PMS_EXAMPLE_GRAFANA_TOKEN = $null }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $got = @(Get-NotificationReceived $script:receivers | Select-Object -Skip $before)
        $slack = @($got | Where-Object receiver -EQ slack)
        $slack.Count | Should -Be 2
        $slack[0].body.text | Should -Match '(?m)^- 25% rollout: '
        $slack[1].body.text | Should -Match 'Feature Rollout Complete: new_reports'
        @($got | Where-Object receiver -EQ grafana | ForEach-Object { $_.body.tags[2] }) | Should -Be @('rollout_started', 'stage_advanced', 'stage_advanced', 'stage_advanced', 'rollout_completed')
        @((Read-Ledger $example.Ledger) | Where-Object event_type -EQ 'notification_sent').Count | Should -Be 7
        $run.Output | Should -Not -Match $script:Secret
        $run.Output | Should -Not -Match $script:GrafanaToken
        foreach ($line in ($run.Output -split "`n" | Where-Object { $_ -match '^(Name|Channel)\s' })) { $line.TrimEnd().Length | Should -BeLessOrEqual 80 }
    }

    It 'checklist.ps1 (pre-deployment checklist) with the readiness gate ON: refused while items are missing, Ready after the evidence and four-eyes approvals, then the production rollout' {
        # PesterHelpers.ps1 switches the gate off for the suite; the example shows the real gate, so its child runs with it on.
        $gate = $env:PMS_FLAGS_READINESS_GATE
        $env:PMS_FLAGS_READINESS_GATE = $null
        try { $run = Invoke-Example 'checklist.ps1' @{ WorkDirectory = $example.Root } }
        finally { $env:PMS_FLAGS_READINESS_GATE = $gate }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'Refused: FlagNotReady,PMS\.Flags\.Cmdlets\.Commands\.StartFlagRolloutCommand'
        $run.Output | Should -Match 'Verdict: Ready'

        $events = Read-Ledger $example.Ledger
        $created = @($events | Where-Object event_type -EQ 'checklist_created')
        $created.Count | Should -Be 1
        $created[0].environment | Should -Be 'production'
        $approved = @($events | Where-Object event_type -EQ 'checklist_item_approved')
        $approved.Count | Should -Be 14
        @($approved.user_id) | Should -Not -Contain $created[0].user_id
        @($events.event_type) | Should -Not -Contain 'readiness_overridden'
        @($events | Where-Object { $_.event_type -eq 'rollout_completed' -and $_.environment -eq 'staging' }).Count | Should -Be 1
        @($events | Where-Object { $_.event_type -eq 'emergency_rollback' -and $_.environment -eq 'staging' }).Count | Should -Be 1
        # Only one production rollout started, after every approval, and it recorded the gate's verdict.
        $started = @($events | Where-Object { $_.event_type -eq 'rollout_started' -and $_.environment -eq 'production' })
        $started.Count | Should -Be 1
        $started[0].details.readiness.verdict | Should -Be 'ready'
        $started[0].details.readiness.checklist_id | Should -Not -BeNullOrEmpty
        [array]::IndexOf(@($events), $started[0]) | Should -BeGreaterThan ([array]::IndexOf(@($events), $approved[-1]))

        # The verdict, read back from the same ledger and document by this process.
        $store = Connect-FlagStore -Path $example.FlagFile -NoDefault
        $ledger = Connect-FlagLedger -Path $example.Ledger -NoDefault 3>$null
        $report = Test-FlagReadiness -Flag telehealth_appointments_enabled -Environment production -Plan @{ Stages = 5, 25, 50, 100; BakeTime = '00:30:00' } -Store $store -Ledger $ledger
        $report.Verdict | Should -Be 'Ready'
        @($report.Items | Where-Object Item -In 'rollback-tested-in-staging', 'staging-validated' | ForEach-Object { "$($_.State)" }) | Should -Be @('Checked', 'Checked')
        $flag = Get-Flag -Flag telehealth_appointments_enabled -Environment production -Store $store
        $flag.On | Should -BeTrue
        $flag.Percentage | Should -Be 5
    }

    Context 'planned-rollback-with-migration.ps1 against a real PostgreSQL 15 and the real alembic' {
        BeforeAll {
            $script:savedDatabaseUrl = $env:DATABASE_URL
            $env:DATABASE_URL = $null
            $script:db = New-TestDatabase 'examples'
            $script:alembicUrl = "postgresql+psycopg2://$($db.User):$($db.Password)@$($db.Host):$($db.Port)/$($db.Name)"
            # A copy of the fixture project (0001 .. 0005 head, 0005 reversible), so alembic's __pycache__ stays out of the repository.
            $script:projectRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-example-alembic-' + [guid]::NewGuid().ToString('N'))
            Copy-Item -Recurse (Join-Path $env:PMS_FLAGS_REPO 'tests/fixtures/alembic-project') $projectRoot
            $script:ini = Join-Path $projectRoot 'alembic.ini'

            function Reset-Database {
                <# An empty schema migrated to head by the real alembic. #>
                $null = Invoke-TestPostgresSql 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' $script:db.Name
                $env:DATABASE_URL = $script:alembicUrl
                try { $null = & /usr/bin/alembic -c $script:ini upgrade head 2>$null; if ($LASTEXITCODE) { throw "alembic upgrade head failed ($LASTEXITCODE)" } }
                finally { $env:DATABASE_URL = $null }
                Get-DatabaseRevision | Should -Be '0005'
            }

            function Get-DatabaseRevision { Invoke-TestPostgresSql 'SELECT string_agg(version_num, '','' ORDER BY version_num) FROM alembic_version' $script:db.Name }

            function Invoke-RollbackExample($Example, [hashtable] $Extra = @{}) {
                [IO.File]::WriteAllText($Example.FlagFile, '{ "staging": { "new_billing_engine": true }, "production": { "new_billing_engine": { "enabled": true, "rollout_percentage": 100 } } }')
                Invoke-Example 'planned-rollback-with-migration.ps1' (@{ WorkDirectory = $Example.Root; FlagFile = $Example.FlagFile; ScriptLocation = $script:ini; ConnectionString = $script:db.ConnectionString; StabilizeFor = '00:00:01' } + $Extra)
            }
        }

        AfterAll {
            Remove-TestDatabase $script:db
            if (Test-Path -LiteralPath $script:projectRoot) { Remove-Item -LiteralPath $script:projectRoot -Recurse -Force }
            $env:DATABASE_URL = $script:savedDatabaseUrl
        }

        It 'Invoke-PlannedRollback: the flag off, the database one revision down at 0004, every step in the ledger, no password in the output' {
            Reset-Database
            $run = Invoke-RollbackExample $example
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $run.Output | Should -Match 'DatabaseRevision : 0004'
            $run.Output | Should -Not -Match ([regex]::Escape($script:db.Password))
            Get-DatabaseRevision | Should -Be '0004'
            $document = Get-Content -Raw $example.FlagFile | ConvertFrom-Json
            $document.production.new_billing_engine.enabled | Should -BeFalse
            $document.staging.new_billing_engine | Should -BeTrue
            $events = Read-Ledger $example.Ledger
            @($events.event_type) | Should -Be @('planned_rollback_started', 'feature_flag_toggled', 'planned_rollback_step', 'planned_rollback_step', 'migration_reverted', 'planned_rollback_step', 'planned_rollback_step', 'planned_rollback_completed')
            @($events | Where-Object event_type -EQ 'planned_rollback_step' | ForEach-Object { $_.details.step }) | Should -Be @('FlagOff', 'Stabilize', 'Downgrade', 'VerifyRevision')
            @($events.approval_ticket | Select-Object -Unique) | Should -Be @('CHG-77')
            ($events | Out-String) | Should -Not -Match ([regex]::Escape($script:db.Password))
        }

        It '-Manual: Disable-Flag, then Invoke-PmsMigration -Downgrade -1; the flag off before the migration in the ledger' {
            Reset-Database
            $run = Invoke-RollbackExample $example @{ Manual = $true }
            $run.ExitCode | Should -Be 0 -Because $run.Output
            Get-DatabaseRevision | Should -Be '0004'
            (Get-Content -Raw $example.FlagFile | ConvertFrom-Json).production.new_billing_engine.enabled | Should -BeFalse
            @((Read-Ledger $example.Ledger).event_type) | Should -Be @('feature_flag_toggled', 'migration_reverted')
        }
    }

    Context 'configmap-restart.ps1 and troubleshooting-flag-not-taking-effect.ps1 against the Kubernetes stand-in' {
        BeforeAll {
            . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
            $script:kubeWork = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-example-k8s-' + [guid]::NewGuid().ToString('N'))
            $null = New-Item -ItemType Directory $script:kubeWork
            $script:K8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2 -Document $script:SampleDocument -Directory $script:kubeWork
            $script:KubeConfigPath = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:kubeWork 'kubeconfig')
            $script:StatusUrl = "$($script:K8s.BaseUri)/svc/pms/pms-backend/api/v1/feature-flags/status"

            function Invoke-KubeExample([string] $Name, [string] $Arguments, [string] $WorkDirectory) {
                # The backend token is a SecureString parameter: the child makes it from an environment variable, and passes
                # on the example's exit code.
                $env:PMS_EXAMPLE_BACKEND_TOKEN = $script:BackendToken
                try {
                    $script = "& '$((Join-Path $script:Examples $Name))' -ModulePath '$($env:PMS_FLAGS_MODULE)' -KubeConfig '$($script:KubeConfigPath)' -StatusUrl '$($script:StatusUrl)' -Token (ConvertTo-SecureString `$env:PMS_EXAMPLE_BACKEND_TOKEN -AsPlainText -Force) $Arguments; exit [int] `$LASTEXITCODE"
                    Invoke-ChildPwsh -Script $script -WorkDirectory $WorkDirectory
                }
                finally { $env:PMS_EXAMPLE_BACKEND_TOKEN = $null }
            }

            function Get-ServedValue([string] $Flag) {
                # What users get: every pod's status endpoint through the Service.
                @(1..6 | ForEach-Object { (Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:BackendToken" } $script:StatusUrl).flags.$Flag | ConvertTo-Json -Compress } | Sort-Object -Unique)
            }

            function Get-DeploymentPatches { @(Get-KubeRequests $script:K8s | Where-Object { $_.method -eq 'PATCH' -and $_.path -match '/deployments/pms-backend$' }) }
        }

        AfterAll {
            Stop-KubernetesStandIn $script:K8s
            Remove-Item -LiteralPath $script:kubeWork -Recurse -Force -ErrorAction SilentlyContinue
        }

        BeforeEach {
            Reset-KubernetesStandIn $script:K8s
            Clear-KubeRequests $script:K8s
        }

        It 'configmap-restart.ps1: the flag at 25% in the ConfigMap, one restart, every pod serving it; the change and its propagation recorded' {
            $run = Invoke-KubeExample 'configmap-restart.ps1' "-WorkDirectory '$($example.Root)'" $example.Root
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $run.Output | Should -Match 'Verdict\s+: Propagated'
            $run.Output | Should -Not -Match $script:KubeToken
            $run.Output | Should -Not -Match $script:BackendToken
            $document = (Get-StandInConfigMap $script:K8s).data.'feature_flags.json' | ConvertFrom-Json
            $document.production.telehealth_appointments_enabled.enabled | Should -BeTrue
            $document.production.telehealth_appointments_enabled.rollout_percentage | Should -Be 25
            Get-ServedValue telehealth_appointments_enabled | Should -Be '{"enabled":true,"rollout_percentage":25}'
            (Get-DeploymentPatches).Count | Should -Be 1
            $events = Read-Ledger $example.Ledger
            @($events.event_type) | Should -Be @('feature_flag_toggled', 'feature_flag_propagated')
            $events[0].approval_ticket | Should -Be 'CHG-25'
            $events[1].outcome | Should -Be 'propagated'
        }

        It 'troubleshooting-flag-not-taking-effect.ps1 -Restart: stale pods found, the deployment restarted once, then every pod serves the ConfigMap''s value' {
            # Someone changed the ConfigMap without restarting the pods: they still serve the old 25 %.
            $store = Connect-FlagStore -ConfigMap -Name feature-flags-config -Deployment pms-backend -KubeConfig $script:KubeConfigPath -NoRestart -NoDefault
            $ledger = Connect-FlagLedger -Path (Join-Path $example.Root 'edit.jsonl') -NoDefault 3>$null
            $null = Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 60 -Reason 'edited without a restart' -ApprovalTicket CHG-60 -Store $store -Ledger $ledger
            Get-ServedValue patient_portal_v2 | Should -Be '{"enabled":true,"rollout_percentage":25}'
            Clear-KubeRequests $script:K8s

            $run = Invoke-KubeExample 'troubleshooting-flag-not-taking-effect.ps1' "-Flag patient_portal_v2 -Restart -WorkDirectory '$($example.Root)'" $example.Root
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $run.Output | Should -Match '(?s)Verdict\s+: PodsStale.*== 2\. Restart.*Verdict\s+: Propagated'
            $run.Output | Should -Match 'feature_flags_loaded'
            $run.Output | Should -Not -Match $script:KubeToken
            $run.Output | Should -Not -Match $script:BackendToken
            Get-ServedValue patient_portal_v2 | Should -Be '{"enabled":true,"rollout_percentage":60}'
            (Get-DeploymentPatches).Count | Should -Be 1
            $restarts = @(Read-Ledger $example.Ledger)
            @($restarts.event_type) | Should -Be @('deployment_restarted')
            $restarts[0].reason | Should -Be 'flag patient_portal_v2 not taking effect'
        }

        It 'troubleshooting-flag-not-taking-effect.ps1 without -Restart: reports the stale pods, exits 1 and changes nothing' {
            $store = Connect-FlagStore -ConfigMap -Name feature-flags-config -Deployment pms-backend -KubeConfig $script:KubeConfigPath -NoRestart -NoDefault
            $ledger = Connect-FlagLedger -Path (Join-Path $example.Root 'edit.jsonl') -NoDefault 3>$null
            $null = Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 70 -Reason 'edited without a restart' -ApprovalTicket CHG-70 -Store $store -Ledger $ledger
            Clear-KubeRequests $script:K8s

            $run = Invoke-KubeExample 'troubleshooting-flag-not-taking-effect.ps1' "-Flag patient_portal_v2 -WorkDirectory '$($example.Root)'" $example.Root
            $run.ExitCode | Should -Be 1 -Because $run.Output
            $run.Output | Should -Match 'Verdict\s+: PodsStale'
            $run.Output | Should -Match 'started before the ConfigMap changed and still serve the old value'
            @(Get-KubeRequests $script:K8s | Where-Object method -In 'PUT', 'PATCH', 'POST', 'DELETE').Count | Should -Be 0
            Get-ServedValue patient_portal_v2 | Should -Be '{"enabled":true,"rollout_percentage":25}'
            # Connecting the ledger creates the file; nothing is recorded in it.
            @(Read-Ledger $example.Ledger).Count | Should -Be 0
        }
    }

    It 'launchdarkly-rollout.ps1: the rollout and the kill switch against the LaunchDarkly stand-in' {
        $token = 'api-example-' + [guid]::NewGuid().ToString('N')
        $launchDarkly = Start-StandInProcess @('launchdarkly', '--token', $token)
        $env:LD_API_KEY = $token
        try {
            $run = Invoke-Example 'launchdarkly-rollout.ps1' @{ WorkDirectory = $example.Root; ProjectKey = 'pms'; BaseUri = $launchDarkly.BaseUri; Flag = 'patient-portal-v2'; Environment = 'production' }
            $stored = Invoke-RestMethod "$($launchDarkly.BaseUri)/_control/flags/pms/patient-portal-v2"
        }
        finally {
            $env:LD_API_KEY = $null
            Stop-StandIn $launchDarkly
        }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Not -Match $token
        $stored.environments.production.on | Should -BeFalse
        $types = @((Read-Ledger $example.Ledger).event_type)
        $types | Should -Contain 'rollout_completed'
        $types | Should -Contain 'emergency_rollback'
    }
}
