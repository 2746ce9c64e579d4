#Requires -Version 7.4
# The ConfigMap flag store (Connect-FlagStore -ConfigMap) against the Kubernetes stand-in: one-flag edits that keep
# every other byte, resourceVersion replaces with a bounded re-apply on 409, restart + wait as the propagation phase.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('pms-cm-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $script:Work
    $script:Document = $script:SampleDocument
    $script:K8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2 -Document $script:Document -Directory $script:Work
    $script:KubeConfig = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Work 'kubeconfig')
    $script:Secure = ConvertTo-SecureString $script:BackendToken -AsPlainText -Force
    function script:Get-Document { (Get-StandInConfigMap $script:K8s).data.'feature_flags.json' }
    function script:Get-Writes { @(Get-KubeRequests $script:K8s | Where-Object method -In 'PUT', 'PATCH', 'POST', 'DELETE') }
    function script:Connect-ConfigMapStore([switch] $NoRestart, [string] $Name = 'feature-flags-config', [string] $Key = 'feature_flags.json', [string] $Namespace = 'pms') {
        Connect-FlagStore -ConfigMap -Namespace $Namespace -Name $Name -Key $Key -Deployment pms-backend -KubeConfig $script:KubeConfig -NoRestart:$NoRestart -RolloutTimeout 00:01:00
    }
    function script:Get-ServedValue([string] $Flag) {
        # What users get: the pods' status endpoint, through the Service (each pod answers what it read at start).
        @(1..6 | ForEach-Object { (Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:BackendToken" } "$($script:K8s.BaseUri)/svc/pms/pms-backend/api/v1/feature-flags/status").flags.$Flag | ConvertTo-Json -Compress } | Sort-Object -Unique)
    }
}

AfterAll {
    Stop-KubernetesStandIn $script:K8s
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'ConfigMap flag store' -Tag Kubernetes {
    BeforeEach {
        Reset-KubernetesStandIn $script:K8s
        $script:Case = Join-Path $script:Work ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $script:Case
        $env:PMS_FLAGS_STATE_DIR = Join-Path $script:Case 'state'
        $script:LedgerPath = Join-Path $script:Case 'ledger.jsonl'
        $null = Connect-FlagLedger -Path $script:LedgerPath
        Clear-KubeRequests $script:K8s
    }

    It 'a percentage change edits one flag, restarts the deployment, and the pods then serve it; every other byte is unchanged' {
        $store = Connect-ConfigMapStore
        $store.Identity | Should -Be 'configmap:pms/feature-flags-config/feature_flags.json'
        (Get-Flag -Flag patient_portal_v2 -Environment production).Percentage | Should -Be 25
        Get-ServedValue patient_portal_v2 | Should -Be '{"enabled":true,"rollout_percentage":25}'

        $record = Set-FlagPercentage -Flag patient_portal_v2 -Environment production -Percentage 50 -Reason 'stage 2' -ApprovalTicket CHG-1 -Confirm:$false
        $record.Percentage | Should -Be 50
        Get-Document | Should -BeExactly ($script:Document -replace '"patient_portal_v2": \{ "enabled": true, "rollout_percentage": 25 \}', '"patient_portal_v2": { "enabled": true, "rollout_percentage": 50 }')
        Get-ServedValue patient_portal_v2 | Should -Be '{"enabled":true,"rollout_percentage":50}'
        $report = Test-FlagPropagation -KubeConfig $script:KubeConfig -Flag patient_portal_v2 -Environment production -StatusUrl "$($script:K8s.BaseUri)/svc/pms/pms-backend/api/v1/feature-flags/status" -Token $script:Secure
        $report.Verdict | Should -Be 'Propagated'

        $toggled = Get-FlagAudit -EventType feature_flag_toggled
        @($toggled).Count | Should -Be 1
        $toggled.Store | Should -Be 'configmap:pms/feature-flags-config/feature_flags.json'
        $propagated = Get-FlagAudit -EventType feature_flag_propagated
        $propagated.Outcome | Should -Be 'propagated'
        $propagated.Timestamp | Should -BeGreaterThan $toggled.Timestamp
        $writes = Get-Writes
        @($writes | Where-Object method -EQ 'PUT').Count | Should -Be 1
        @($writes | Where-Object { $_.method -eq 'PATCH' -and $_.path -match '/deployments/pms-backend$' }).Count | Should -Be 1
    }

    It '-NoRestart changes the ConfigMap only; the pods keep serving the old value' {
        $null = Connect-ConfigMapStore -NoRestart
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 30 -Reason 'no restart' -Confirm:$false
        (Get-Document) | Should -Match '"new_billing_engine": \{ "enabled": true, "rollout_percentage": 30, "owner": "billing" \}'
        @(Get-Writes | Where-Object method -EQ 'PATCH').Count | Should -Be 0
    }

    It 'an injected 409 is re-read and re-applied once: both changes survive, one event' {
        $null = Connect-ConfigMapStore -NoRestart
        $concurrent = $script:Document -replace '"new_reports": false', '"new_reports": true'
        $null = Invoke-RestMethod -Method Post "$($script:K8s.BaseUri)/_control/interfere" -ContentType 'application/json' -Body (@{ namespace = 'pms'; name = 'feature-flags-config'; data = @{ 'feature_flags.json' = $concurrent } } | ConvertTo-Json)
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 40 -Reason 'race' -Confirm:$false
        $puts = @(Get-Writes | Where-Object method -EQ 'PUT')
        $puts.Count | Should -Be 2
        $puts[0].status | Should -Be 409
        $puts[1].status | Should -Be 200
        Get-Document | Should -BeExactly ($concurrent -replace '"rollout_percentage": 10, "owner"', '"rollout_percentage": 40, "owner"')
        @(Get-FlagAudit -EventType feature_flag_toggled).Count | Should -Be 1
    }

    It 'crash-looping new pods fail the wait with a clear error; the ConfigMap holds the value and the ledger says so' {
        $null = Connect-ConfigMapStore
        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true; progressDeadlineSeconds = 2 }
        $caught = $null
        try { $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 60 -Reason 'crash' -Confirm:$false } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'DeploymentProgressDeadlineExceeded,PMS.Flags.Cmdlets.Commands.SetFlagPercentageCommand'
        $caught.Exception.Message | Should -Match 'holds the new value'
        $caught.Exception.Message | Should -Match 'do not serve it yet'
        Get-Document | Should -Match '"rollout_percentage": 60'
        (Get-FlagAudit -EventType feature_flag_toggled).RolloutPercentage | Should -Be 60
        (Get-FlagAudit -EventType feature_flag_propagated).Outcome | Should -Be 'failed'
    }

    It 'an emergency rollback holds the flag off after two requests (read, replace), then restarts' {
        $null = Connect-ConfigMapStore
        Clear-KubeRequests $script:K8s
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'incident' -Force
        $result.FlagOffAt | Should -Not -BeNullOrEmpty
        $requests = @(Get-KubeRequests $script:K8s | Where-Object { $_.path -match 'configmaps/feature-flags-config$' })
        $untilOff = [array]::IndexOf(@($requests.method), 'PUT') + 1
        $untilOff | Should -BeLessOrEqual 2
        # Off is the playbook's plain false (the object had no keys of its own), and every other byte stays.
        Get-Document | Should -Match '"patient_portal_v2": false'
        $result.RestartedAt | Should -BeGreaterThan $result.FlagOffAt
        $result.PodsReadyAt | Should -BeGreaterThan $result.RestartedAt
        $result.WithinSla | Should -BeTrue
        $result.Steps.Name | Should -Contain 'Propagate'
        Get-ServedValue patient_portal_v2 | Should -Be 'false'
        (Get-FlagAudit -EventType emergency_rollback).Outcome | Should -Be 'succeeded'
    }

    It 'an emergency rollback whose restart crash-loops is off in the ConfigMap but not within the SLA, and says why' {
        $null = Connect-ConfigMapStore
        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true; progressDeadlineSeconds = 2 }
        $result = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'incident' -Force -WarningVariable warnings -WarningAction SilentlyContinue
        $result.FlagOff | Should -BeTrue
        $result.PodsReadyAt | Should -BeNullOrEmpty
        $result.WithinSla | Should -BeFalse
        ($result.Steps | Where-Object Name -EQ 'Propagate').Status | Should -Be 'Failed'
        ($warnings -join ' ') | Should -Match 'do not serve it yet'
        Get-Document | Should -Match '"patient_portal_v2": false'
    }

    It 'a rollout on the ConfigMap store bakes from the moment the restarted pods are ready' {
        $null = Connect-ConfigMapStore
        $started = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment staging -Stages 10, 100 -BakeTime 00:10:00 -Reason 'rollout on the ConfigMap' -NoWait
        $started.Percentage | Should -Be 10
        $value = (Get-Document | ConvertFrom-Json).staging.telehealth_appointments_enabled
        $value.enabled | Should -BeTrue
        $value.rollout_percentage | Should -Be 10
        $toggled = Get-FlagAudit -EventType feature_flag_toggled | Where-Object RolloutId -EQ $started.RolloutId
        $propagated = Get-FlagAudit -EventType feature_flag_propagated | Where-Object RolloutId -EQ $started.RolloutId
        $propagated.Outcome | Should -Be 'propagated'
        $propagated.Timestamp | Should -BeGreaterThan $toggled.Timestamp
        $state = Get-FlagRollout -RolloutId $started.RolloutId
        $state.BakeDueAt | Should -Be ($propagated.Timestamp + [TimeSpan]::FromMinutes(10))
        # The stand-in's pods serve production; staging's value is what the restarted pods read from the ConfigMap.
        (Get-StandInState $script:K8s).pods | ForEach-Object { $_.loadedResourceVersion | Should -Be (Get-StandInConfigMap $script:K8s).metadata.resourceVersion }
    }

    Context 'bad inputs: a stable ErrorId and nothing changed' {
        It '<Case>' -ForEach @(
            @{ Case = 'a missing ConfigMap'; Id = 'ConfigMapNotFound'; Arguments = @{ Name = 'no-such-config' } }
            @{ Case = 'a missing key'; Id = 'ConfigMapKeyNotFound'; Arguments = @{ Key = 'other.json' } }
            @{ Case = 'an unknown namespace'; Id = 'KubernetesNamespaceNotFound'; Arguments = @{ Namespace = 'no-such-ns' } }
        ) {
            { Connect-ConfigMapStore @Arguments } | Should -Throw -ErrorId "$Id,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand"
            Get-Writes | Should -BeNullOrEmpty
        }

        It 'an unparsable document is refused and left as it is' {
            $cm = Get-StandInConfigMap $script:K8s
            $cm.data.'feature_flags.json' = '{ "production": { "new_billing_engine": tru'
            $null = Invoke-RestMethod -Method Put -Headers @{ Authorization = "Bearer $script:KubeToken" } -ContentType 'application/json' -Body ($cm | ConvertTo-Json -Depth 10) "$($script:K8s.BaseUri)/api/v1/namespaces/pms/configmaps/feature-flags-config"
            Clear-KubeRequests $script:K8s
            { Connect-ConfigMapStore } | Should -Throw -ErrorId 'ConfigMapDocumentInvalid,PMS.Flags.Cmdlets.Commands.ConnectFlagStoreCommand'
            Get-Writes | Should -BeNullOrEmpty
            Get-Document | Should -Be '{ "production": { "new_billing_engine": tru'
        }
    }
}
