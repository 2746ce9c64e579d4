#Requires -Version 7.4
# The deployment cmdlets through the BUILT module against the Kubernetes stand-in, over https with the stand-in's CA and
# a bearer token (the token must never show up in output, verbose, warnings, errors or the ledger).

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('pms-k8s-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $script:Work
    $script:K8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2
    $script:KubeConfig = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Work 'kubeconfig')
    $script:Secure = ConvertTo-SecureString $script:BackendToken -AsPlainText -Force
    $script:StatusUrl = "$($script:K8s.BaseUri)/svc/pms/pms-backend/api/v1/feature-flags/status"

    function script:Get-Writes { @(Get-KubeRequests $script:K8s | Where-Object method -In 'PUT', 'PATCH', 'POST', 'DELETE') }
    function script:Get-Deployment { Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:KubeToken" } "$($script:K8s.BaseUri)/apis/apps/v1/namespaces/pms/deployments/pms-backend" }
    function script:Set-ConfigMapDocument([string] $Document) {
        # What an operator's kubectl apply does: the ConfigMap changes, the pods do not restart.
        $cm = Get-StandInConfigMap $script:K8s
        $cm.data.'feature_flags.json' = $Document
        $null = Invoke-RestMethod -Method Put -Headers @{ Authorization = "Bearer $script:KubeToken" } -ContentType 'application/json' -Body ($cm | ConvertTo-Json -Depth 10) "$($script:K8s.BaseUri)/api/v1/namespaces/pms/configmaps/feature-flags-config"
    }
    function script:Get-LedgerText { if (Test-Path $script:LedgerPath) { [IO.File]::ReadAllText($script:LedgerPath) } else { '' } }
    function script:Assert-NoSecret([string] $Text) {
        $Text | Should -Not -Match ([regex]::Escape($script:KubeToken))
        $Text | Should -Not -Match ([regex]::Escape($script:BackendToken))
    }
}

AfterAll {
    Stop-KubernetesStandIn $script:K8s
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Deployment cmdlets' -Tag Kubernetes {
    BeforeEach {
        Reset-KubernetesStandIn $script:K8s
        $script:Case = Join-Path $script:Work ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $script:Case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $script:Case 'state'
        $script:LedgerPath = Join-Path $script:Case 'ledger.jsonl'
        $null = Connect-FlagLedger -Path $script:LedgerPath
        $script:LedgerBefore = Get-LedgerText
        Clear-KubeRequests $script:K8s
    }

    It 'Get-PmsDeploymentHealth reports conditions, pods, metrics and the health endpoint' {
        $health = Get-PmsDeploymentHealth -KubeConfig $script:KubeConfig -HealthUrl "$($script:K8s.BaseUri)/svc/pms/pms-backend/health"
        $health.Healthy | Should -BeTrue
        $health.ReadyReplicas | Should -Be 2
        $health.Rollout.Message | Should -Be 'deployment "pms-backend" successfully rolled out'
        $health.Conditions | Should -Contain 'Available=True (MinimumReplicasAvailable)'
        $health.Pods.Count | Should -Be 2
        $health.Pods | ForEach-Object { $_.Ready | Should -BeTrue; $_.Phase | Should -Be 'Running'; $_.Node | Should -Match '^node-'; $_.MemoryBytes | Should -BeGreaterThan 0; $_.CpuMillicores | Should -BeGreaterThan 0 }
        $health.MetricsAvailable | Should -BeTrue
        $health.Endpoint.StatusCode | Should -Be 200
        @($health.Events | Where-Object Reason -EQ 'Started').Count | Should -BeGreaterOrEqual 2
        $writes = Get-Writes
        $writes.Count | Should -Be 0
        (Get-KubeRequests $script:K8s | ForEach-Object scheme | Sort-Object -Unique) | Should -Be 'https'
    }

    It 'Get-PmsDeploymentHealth without a metrics API still reports, with empty usage' {
        $null = Set-KubernetesStandIn $script:K8s @{ metrics = $false }
        $health = Get-PmsDeploymentHealth -KubeConfig $script:KubeConfig
        $health.MetricsAvailable | Should -BeFalse
        $health.Pods | ForEach-Object { $_.CpuMillicores | Should -BeNullOrEmpty }
        $health.Healthy | Should -BeTrue
    }

    It 'Restart-PmsDeployment -Wait replaces every pod, reports progress and records deployment_restarted' {
        $before = @((Get-StandInState $script:K8s).pods.name)
        $result = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Timeout 00:01:00 -Reason 'pick up flags' -Confirm:$false
        $result.Outcome | Should -Be 'Complete'
        $result.PodsReadyAt | Should -BeGreaterThan $result.RequestedAt
        $after = @((Get-StandInState $script:K8s).pods.name)
        $after.Count | Should -Be 2
        @($after | Where-Object { $_ -in $before }).Count | Should -Be 0
        (Get-Deployment).spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -Not -BeNullOrEmpty
        $event = Get-FlagAudit -EventType deployment_restarted
        @($event).Count | Should -Be 1
        $event.Outcome | Should -Be 'Complete'
        $event.Reason | Should -Be 'pick up flags'
        Assert-NoSecret (Get-Content -Raw $script:LedgerPath)
    }

    It 'Restart-PmsDeployment -WhatIf changes nothing and records nothing' {
        $deployment = Get-Deployment
        Restart-PmsDeployment -KubeConfig $script:KubeConfig -WhatIf
        Get-Writes | Should -BeNullOrEmpty
        (Get-Deployment).metadata.generation | Should -Be $deployment.metadata.generation
        Get-LedgerText | Should -BeExactly $script:LedgerBefore
    }

    It 'crash-looping new pods fail the wait with a clear error, and the ledger says so' {
        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true; progressDeadlineSeconds = 2 }
        $caught = $null
        try { Restart-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Timeout 00:01:00 -Confirm:$false } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'DeploymentProgressDeadlineExceeded,PMS.Flags.Cmdlets.Commands.RestartPmsDeploymentCommand'
        $caught.Exception.Message | Should -Match 'exceeded its progress deadline'
        $caught.Exception.Message | Should -Match 'old pods keep serving'
        $event = Get-FlagAudit -EventType deployment_restarted
        $event.Outcome | Should -Be 'ProgressDeadlineExceeded'
        $health = Get-PmsDeploymentHealth -KubeConfig $script:KubeConfig
        $health.Healthy | Should -BeFalse
        @($health.Pods | Where-Object Reason -EQ 'CrashLoopBackOff').Count | Should -Be 1
        @($health.Events | Where-Object { $_.Type -eq 'Warning' -and $_.Reason -eq 'BackOff' }).Count | Should -BeGreaterOrEqual 1
    }

    It 'Undo-PmsDeployment restores the previous revision''s template and records deployment_undone' {
        $original = Get-Deployment
        $null = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Confirm:$false
        $undo = Undo-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Force -Reason 'bad release'
        $undo.FromRevision | Should -Be 2
        $undo.ToRevision | Should -Be 1
        $undo.Outcome | Should -Be 'Complete'
        $after = Get-Deployment
        $after.spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -BeNullOrEmpty
        $after.metadata.annotations.'deployment.kubernetes.io/revision' | Should -Be '3'
        $event = Get-FlagAudit -EventType deployment_undone
        $event.Outcome | Should -Be 'Complete'
        ($event.Details | ConvertFrom-Json).to_revision | Should -Be 1
    }

    It 'Undo-PmsDeployment -WhatIf and an unknown revision change nothing' {
        $null = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Confirm:$false
        $ledgerBefore = (Get-FileHash $script:LedgerPath).Hash
        Clear-KubeRequests $script:K8s
        Undo-PmsDeployment -KubeConfig $script:KubeConfig -WhatIf
        { Undo-PmsDeployment -KubeConfig $script:KubeConfig -ToRevision 99 -Force } | Should -Throw -ErrorId 'DeploymentRevisionNotFound,PMS.Flags.Cmdlets.Commands.UndoPmsDeploymentCommand'
        Get-Writes | Should -BeNullOrEmpty
        (Get-FileHash $script:LedgerPath).Hash | Should -Be $ledgerBefore
    }

    It 'Get-PmsLog turns JSON lines into objects and filters with -Match' {
        $line = '{"timestamp":"2026-12-03T10:00:00Z","event_type":"feature_flag_toggled","feature_flag":"new_billing_engine","new_state":false,"user_id":"ops@pms"}'
        $null = Invoke-RestMethod -Method Post "$($script:K8s.BaseUri)/_control/logs" -ContentType 'application/json' -Body (@{ lines = @($line, 'plain text line') } | ConvertTo-Json)
        $records = @(Get-PmsLog -KubeConfig $script:KubeConfig -Match feature_flag_toggled)
        $records.Count | Should -Be 2 -Because 'both pods logged the line'
        $records | ForEach-Object {
            $_.PSObject.TypeNames[0] | Should -Be 'PMS.Flags.LogRecord'
            $_.feature_flag | Should -Be 'new_billing_engine'
            $_.new_state | Should -BeFalse
            $_.Pod | Should -Match '^pms-backend-'
            $_.LogTime | Should -BeOfType [DateTimeOffset]
        }
        $plain = @(Get-PmsLog -KubeConfig $script:KubeConfig -Tail 1)
        $plain.Count | Should -Be 2
        $plain | ForEach-Object { $_.Message | Should -Be 'plain text line' }
        { Get-PmsLog -KubeConfig $script:KubeConfig -Match '([' } | Should -Throw -ErrorId 'LogPatternInvalid,PMS.Flags.Cmdlets.Commands.GetPmsLogCommand'
    }

    It 'Test-FlagPropagation: a ConfigMap change without a restart is PodsStale; after a restart it has propagated' {
        $document = (Get-StandInConfigMap $script:K8s).data.'feature_flags.json'
        Set-ConfigMapDocument ($document -replace '"new_billing_engine": false', '"new_billing_engine": { "enabled": true, "rollout_percentage": 10 }')
        $output = Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -StatusUrl $script:StatusUrl -Token $script:Secure -Verbose 4>&1 3>&1 | Out-String
        Assert-NoSecret $output
        $stale = Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -StatusUrl $script:StatusUrl -Token $script:Secure
        $stale.Verdict | Should -Be 'PodsStale'
        $stale.StoreValue.On | Should -BeTrue
        $stale.StoreValue.Percentage | Should -Be 10
        $stale.Pods | ForEach-Object { $_.Reported.On | Should -BeFalse; $_.Matches | Should -BeFalse }
        $stale.Recommendation | Should -Match 'Restart-PmsDeployment'

        $null = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Wait -Confirm:$false
        $fresh = Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -StatusUrl $script:StatusUrl -Token $script:Secure
        $fresh.Verdict | Should -Be 'Propagated'
        $fresh.Pods | ForEach-Object { $_.Matches | Should -BeTrue; $_.Reported.Percentage | Should -Be 10 }
    }

    It 'Test-FlagPropagation with a wrong app token warns and judges on start times alone' {
        Set-ConfigMapDocument ((Get-StandInConfigMap $script:K8s).data.'feature_flags.json' -replace '"new_billing_engine": false', '"new_billing_engine": true')
        $report = Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -StatusUrl $script:StatusUrl -Token (ConvertTo-SecureString 'wrong' -AsPlainText -Force) -WarningVariable warnings -WarningAction SilentlyContinue
        $report.StatusError | Should -Match '401'
        $report.Verdict | Should -Be 'PodsStale'
        @($warnings).Count | Should -Be 1
    }

    Context 'bad inputs: a stable ErrorId and nothing changed' {
        It '<Case>' -ForEach @(
            @{ Case = 'a kubeconfig that does not exist'; Id = 'KubeConfigNotFound'; Arguments = @{ KubeConfig = '/nonexistent/kubeconfig' } }
            @{ Case = 'a context the kubeconfig lacks'; Id = 'KubeContextNotFound'; Arguments = @{ KubeContext = 'prod-cluster' } }
            @{ Case = 'an unknown namespace'; Id = 'KubernetesNamespaceNotFound'; Arguments = @{ Namespace = 'no-such-ns' } }
            @{ Case = 'an unknown deployment'; Id = 'DeploymentNotFound'; Arguments = @{ Deployment = 'no-such-deployment' } }
            @{ Case = 'an invalid namespace name'; Id = 'KubernetesNameInvalid'; Arguments = @{ Namespace = 'Bad_Name' } }
        ) {
            $splat = @{ KubeConfig = $script:KubeConfig }
            foreach ($key in $Arguments.Keys) { $splat[$key] = $Arguments[$key] }
            { Restart-PmsDeployment @splat -Wait -Confirm:$false } | Should -Throw -ErrorId "$Id,PMS.Flags.Cmdlets.Commands.RestartPmsDeploymentCommand"
            { Get-PmsDeploymentHealth @splat } | Should -Throw -ErrorId "$Id,PMS.Flags.Cmdlets.Commands.GetPmsDeploymentHealthCommand"
            Get-Writes | Should -BeNullOrEmpty
            Get-LedgerText | Should -BeExactly $script:LedgerBefore
        }

        It 'an expired or invalid token' {
            $bad = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Case 'bad-token') -Token 'expired-token'
            $caught = $null
            try { Restart-PmsDeployment -KubeConfig $bad -Confirm:$false } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Be 'KubernetesUnauthorized,PMS.Flags.Cmdlets.Commands.RestartPmsDeploymentCommand'
            Assert-NoSecret ($caught | Out-String)
            Get-Writes | Should -BeNullOrEmpty
            Get-LedgerText | Should -BeExactly $script:LedgerBefore
        }

        It 'an unreachable API server' {
            $port = Get-FreeTcpPort
            $dead = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Case 'dead') -ServerUri "https://127.0.0.1:$port"
            { Restart-PmsDeployment -KubeConfig $dead -Confirm:$false } | Should -Throw -ErrorId 'KubernetesApiUnreachable,PMS.Flags.Cmdlets.Commands.RestartPmsDeploymentCommand'
            Get-LedgerText | Should -BeExactly $script:LedgerBefore
        }

        It 'a missing ConfigMap, a missing key and an unparsable document' {
            { Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -ConfigMap no-such-config } | Should -Throw -ErrorId 'ConfigMapNotFound,PMS.Flags.Cmdlets.Commands.TestFlagPropagationCommand'
            { Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production -Key other.json } | Should -Throw -ErrorId 'ConfigMapKeyNotFound,PMS.Flags.Cmdlets.Commands.TestFlagPropagationCommand'
            Set-ConfigMapDocument '{ "production": { "new_billing_engine": tru'
            Clear-KubeRequests $script:K8s
            $before = Get-StandInConfigMap $script:K8s
            { Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag new_billing_engine -Environment production } | Should -Throw -ErrorId 'ConfigMapDocumentInvalid,PMS.Flags.Cmdlets.Commands.TestFlagPropagationCommand'
            (Get-StandInConfigMap $script:K8s).metadata.resourceVersion | Should -Be $before.metadata.resourceVersion
            Get-Writes | Should -BeNullOrEmpty
        }
    }
}

Describe 'The deployment guardrail' -Tag Kubernetes {
    BeforeEach {
        Reset-KubernetesStandIn $script:K8s
        $script:Sandbox = New-FlagSandbox
    }
    AfterEach { Remove-FlagSandbox $script:Sandbox }

    It 'is healthy while every pod is ready, and breaches when a new pod crash-loops' {
        $guardrail = New-FlagGuardrail -Deployment pms-backend -Namespace pms -KubeConfig $script:KubeConfig
        $guardrail.Kind | Should -Be 'Deployment'
        $guardrail.KubeConfig | Should -Be $script:KubeConfig
        $healthy = Test-FlagGuardrail $guardrail
        $healthy.Status | Should -Be 'Healthy'
        $healthy.Series.Count | Should -Be 2

        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true }
        $null = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Confirm:$false
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do { Start-Sleep -Milliseconds 200; $result = Test-FlagGuardrail $guardrail } until ($result.Status -eq 'Breached' -or [DateTime]::UtcNow -gt $deadline)
        $result.Status | Should -Be 'Breached'
        @($result.BreachingSeries).Count | Should -Be 1
        $result.BreachingSeries[0].Labels.ready | Should -Be 'false'
    }

    It 'an unreachable cluster is an Error, not an exception' {
        $dead = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Sandbox.Root 'dead') -ServerUri "https://127.0.0.1:$(Get-FreeTcpPort)"
        $result = New-FlagGuardrail -Deployment pms-backend -KubeConfig $dead | Test-FlagGuardrail
        $result.Status | Should -Be 'Error'
        $result.Reason | Should -Match 'KubernetesApiUnreachable'
    }

    It 'guards a rollout: a crash-looping deployment rolls the flag back' {
        $guardrail = New-FlagGuardrail -Deployment pms-backend -KubeConfig $script:KubeConfig
        $started = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 10, 100 -BakeTime 00:00:30 -Guardrail $guardrail -Reason 'guarded by the deployment' -NoWait
        (Get-FlagAudit -EventType rollout_started | Select-Object -Last 1).Details | Should -Match '"kind":"Deployment"'
        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true }
        $null = Restart-PmsDeployment -KubeConfig $script:KubeConfig -Confirm:$false
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do { Start-Sleep -Milliseconds 300; $step = Step-FlagRollout -RolloutId $started.RolloutId -WarningAction SilentlyContinue } until ("$($step.Action)" -eq 'RolledBack' -or [DateTime]::UtcNow -gt $deadline)
        "$($step.Action)" | Should -Be 'RolledBack'
        (Get-Flag -Flag telehealth_appointments_enabled -Environment staging).On | Should -BeFalse
    }
}

Describe 'Loading KubernetesClient' -Tag Kubernetes {
    BeforeEach { Reset-KubernetesStandIn $script:K8s }

    It 'loads KubernetesClient only when a Kubernetes cmdlet is first used, into the engine''s private context' {
        $sandbox = New-FlagSandbox -NoConnect
        try {
            $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $sandbox.FlagFile, $script:KubeConfig -Script @'
param($ModulePath, $FlagFile, $KubeConfig)
$ErrorActionPreference = 'Stop'
$env:PMS_FLAGS_STATE_DIR = Join-Path (Split-Path $FlagFile) 'state'
function Loaded { @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'KubernetesClient', 'YamlDotNet', 'Fractions' } | ForEach-Object { $_.GetName().Name }) -join ',' }
Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path (Join-Path (Split-Path $FlagFile) 'ledger.jsonl')
$null = Get-Flag -Environment staging
$null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 15 -Reason 'no kubernetes here' -Confirm:$false
$null = Get-Command -Module PMS.Flags | Get-Help
$null = New-FlagGuardrail -HealthUrl http://127.0.0.1:9/health -Name local | Test-FlagGuardrail
"BEFORE=[$(Loaded)]"
$null = Get-PmsDeploymentHealth -KubeConfig $KubeConfig
"AFTER=[$(Loaded)]"
$k8s = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'KubernetesClient' }
"CONTEXT=$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($k8s).Name)"
'@
            $result.ExitCode | Should -Be 0 -Because $result.Output
            $result.Output | Should -Match 'BEFORE=\[\]'
            $result.Output | Should -Match 'AFTER=\[.*KubernetesClient.*\]'
            $result.Output | Should -Match 'CONTEXT=PMS.Flags.Engine'
        }
        finally { Remove-FlagSandbox $sandbox }
    }

    It 'works in a session that already loaded another YamlDotNet' {
        $yaml16 = Join-Path $env:PMS_FLAGS_REPO '.tools/packages/yamldotnet/16.3.0/lib/net8.0/YamlDotNet.dll'
        $yaml16 | Should -Exist -Because 'build.ps1 Bootstrap restores YamlDotNet 16.3.0 (build/tools.csproj)'
        $sandbox = New-FlagSandbox -NoConnect
        try {
            $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $yaml16, $script:KubeConfig -Script @'
param($ModulePath, $YamlPath, $KubeConfig)
$ErrorActionPreference = 'Stop'
Add-Type -Path $YamlPath
$own = [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize(@{ session = 'yaml16' })
Import-Module $ModulePath
$health = Get-PmsDeploymentHealth -KubeConfig $KubeConfig
"HEALTHY=$($health.Healthy)"
"OWN=$($own.Trim())"
[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' } | ForEach-Object {
    "YAML=$($_.GetName().Version.Major)@$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name)"
}
'@
            $result.ExitCode | Should -Be 0 -Because $result.Output
            $result.Output | Should -Match 'HEALTHY=True'
            $result.Output | Should -Match 'OWN=session: yaml16'
            $result.Output | Should -Match 'YAML=16@Default'
            $result.Output | Should -Match 'YAML=18@PMS.Flags.Engine'
        }
        finally { Remove-FlagSandbox $sandbox }
    }
}

Describe 'The CronJob example' -Tag Kubernetes {
    It 'is valid YAML: a CronJob that steps one rollout per run with the in-cluster service account and no secret inline' {
        $yaml16 = Join-Path $env:PMS_FLAGS_REPO '.tools/packages/yamldotnet/16.3.0/lib/net8.0/YamlDotNet.dll'
        $example = Join-Path $env:PMS_FLAGS_REPO 'examples/k8s/step-rollout-cronjob.yaml'
        $work = Join-Path $script:Work 'cronjob'
        $null = New-Item -ItemType Directory -Force $work
        # In a child pwsh: YamlDotNet 16 must not enter this session's default context (the isolation tests check it).
        $result = Invoke-ChildPwsh -WorkDirectory $work -ArgumentList $yaml16, $example -Script @'
param($YamlPath, $Example)
$ErrorActionPreference = 'Stop'
Add-Type -Path $YamlPath
$deserializer = [YamlDotNet.Serialization.DeserializerBuilder]::new().Build()
$documents = (Get-Content -Raw $Example) -split "(?m)^---\s*$" | Where-Object { $_ -match 'kind:' } | ForEach-Object { $deserializer.Deserialize[object]($_) }
$documents | ForEach-Object { "KIND=$($_['kind'])" }
$cron = $documents | Where-Object { $_['kind'] -eq 'CronJob' }
"POLICY=$($cron['spec']['concurrencyPolicy'])"
$pod = $cron['spec']['jobTemplate']['spec']['template']['spec']
"ACCOUNT=$($pod['serviceAccountName'])"
"ARGS=$($pod['containers'][0]['args'][0])"
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'KIND=ServiceAccount'
        $result.Output | Should -Match 'KIND=Role\b'
        $result.Output | Should -Match 'KIND=CronJob'
        $result.Output | Should -Match 'POLICY=Forbid'
        $result.Output | Should -Match 'ACCOUNT=pms-flags-stepper'
        $result.Output | Should -Match 'Step-FlagRollout -Flag \$env:FLAG'
        Get-Content -Raw $example | Should -Not -Match 'api-[0-9a-f]{8}'
    }
}
