#Requires -Version 7.4
# The Kubernetes stand-in against the REAL kubectl (toolchain.md §8): if kubectl disagrees, the stand-in is wrong.
# kubectl is pinned to its 1.32 client and every call gets a fresh --cache-dir; it sends the token only over TLS, so the
# kubeconfig points at the stand-in's https port with its CA.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('pms-kubectl-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $script:Work
    $script:K8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.3
    $script:KubeConfig = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Work 'kubeconfig')
    function script:Kubectl {
        $cache = Join-Path $script:Work ('home-' + [guid]::NewGuid().ToString('N') + '/cache')
        $null = New-Item -ItemType Directory -Force $cache
        Invoke-Kubectl -KubeConfig $script:KubeConfig -CacheDirectory $cache -Arguments $args
    }
    function script:Get-Deployment { Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:KubeToken" } "$($script:K8s.BaseUri)/apis/apps/v1/namespaces/pms/deployments/pms-backend" }
    function script:Get-ReplicaSets { @((Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:KubeToken" } "$($script:K8s.BaseUri)/apis/apps/v1/namespaces/pms/replicasets").items) }
    function script:Get-Pods { @((Invoke-RestMethod -Headers @{ Authorization = "Bearer $script:KubeToken" } "$($script:K8s.BaseUri)/api/v1/namespaces/pms/pods").items) }
    function script:Revision($rs) { [int]$rs.metadata.annotations.'deployment.kubernetes.io/revision' }
    # Key order is not part of an object's identity: compare templates with their keys sorted.
    function script:ConvertTo-SortedJson($value) {
        function Sort-Keys($v) {
            if ($v -is [System.Management.Automation.PSCustomObject]) {
                $ordered = [ordered]@{}
                foreach ($p in ($v.PSObject.Properties | Sort-Object Name)) { $ordered[$p.Name] = Sort-Keys $p.Value }
                return $ordered
            }
            if ($v -is [array]) { return , @($v | ForEach-Object { Sort-Keys $_ }) }
            $v
        }
        Sort-Keys $value | ConvertTo-Json -Depth 30 -Compress
    }
}

AfterAll {
    Stop-KubernetesStandIn $script:K8s
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Kubernetes stand-in against the real kubectl' -Tag Kubernetes {
    BeforeEach {
        Reset-KubernetesStandIn $script:K8s
        Clear-KubeRequests $script:K8s
    }

    It 'get configmap -o json prints the stored object, read over https with the bearer token' {
        $result = Kubectl get configmap feature-flags-config -n pms -o json
        $result.ExitCode | Should -Be 0 -Because $result.Stderr
        $printed = $result.Stdout | ConvertFrom-Json
        $stored = Get-StandInConfigMap $script:K8s
        $printed.kind | Should -Be 'ConfigMap'
        $printed.metadata.resourceVersion | Should -Be $stored.metadata.resourceVersion
        $printed.data.'feature_flags.json' | Should -BeExactly $stored.data.'feature_flags.json'
        $requests = Get-KubeRequests $script:K8s
        $get = @($requests | Where-Object path -EQ '/api/v1/namespaces/pms/configmaps/feature-flags-config')
        $get.Count | Should -Be 1
        $get[0].scheme | Should -Be 'https'
        $get[0].authorization | Should -Be 'valid'
        $get[0].userAgent | Should -Match '^kubectl(\.1\.32)?/v1\.32'
        ($requests | ConvertTo-Json -Depth 5) | Should -Not -Match ([regex]::Escape($script:KubeToken))
    }

    It 'a wrong token gets 401 and kubectl says it is not logged in' {
        $bad = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:Work 'bad-kubeconfig') -Token 'not-the-token'
        $cache = Join-Path $script:Work 'bad-home/cache'
        $result = Invoke-Kubectl -KubeConfig $bad -CacheDirectory $cache -Arguments get, configmap, feature-flags-config, -n, pms, -o, json
        $result.ExitCode | Should -Be 1
        $result.Stderr | Should -Match 'You must be logged in to the server|Unauthorized'
        @(Get-KubeRequests $script:K8s | Where-Object authorization -EQ 'invalid').Count | Should -BeGreaterThan 0
    }

    It 'a missing ConfigMap is a NotFound Status that kubectl prints' {
        $result = Kubectl get configmap no-such-config -n pms -o json
        $result.ExitCode | Should -Be 1
        $result.Stderr | Should -Match 'NotFound.*configmaps "no-such-config" not found'
    }

    It 'replace with a stale resourceVersion is a 409 Conflict and changes nothing' {
        $before = Get-StandInConfigMap $script:K8s
        $stale = $before | ConvertTo-Json -Depth 10 | ConvertFrom-Json
        $stale.metadata.resourceVersion = "$([long]$before.metadata.resourceVersion - 1)"
        $stale.data.'feature_flags.json' = '{"production":{"new_billing_engine":false}}'
        $file = Join-Path $script:Work 'stale.json'
        $stale | ConvertTo-Json -Depth 10 | Set-Content $file
        $result = Kubectl replace --validate=false -f $file
        $result.ExitCode | Should -Be 1
        $result.Stderr | Should -Match 'Conflict.*the object has been modified'
        $after = Get-StandInConfigMap $script:K8s
        $after.metadata.resourceVersion | Should -Be $before.metadata.resourceVersion
        $after.data.'feature_flags.json' | Should -BeExactly $before.data.'feature_flags.json'
    }

    It 'rollout restart makes a new ReplicaSet revision and rollout status watches it to the end' {
        $before = Get-Deployment
        $restart = Kubectl rollout restart deployment/pms-backend -n pms
        $restart.ExitCode | Should -Be 0 -Because $restart.Stderr
        $restart.Stdout | Should -Match 'deployment.apps/pms-backend restarted'
        $status = Kubectl rollout status deployment/pms-backend -n pms --timeout=60s
        $status.ExitCode | Should -Be 0 -Because $status.Stderr
        $status.Stdout | Should -Match 'deployment "pms-backend" successfully rolled out'

        $after = Get-Deployment
        $after.metadata.generation | Should -Be ($before.metadata.generation + 1)
        $after.status.observedGeneration | Should -Be $after.metadata.generation
        $after.spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -Not -BeNullOrEmpty
        $newest = Get-ReplicaSets | Sort-Object { Revision $_ } | Select-Object -Last 1
        Revision $newest | Should -Be 2
        $pods = Get-Pods
        $pods.Count | Should -Be 2
        $pods | ForEach-Object { $_.metadata.ownerReferences[0].name | Should -Be $newest.metadata.name; $_.status.containerStatuses[0].ready | Should -BeTrue }
        $requests = Get-KubeRequests $script:K8s
        @($requests | Where-Object { $_.method -eq 'PATCH' -and $_.contentType -eq 'application/strategic-merge-patch+json' }).Count | Should -Be 1
        @($requests | Where-Object { $_.query -match 'watch=true' }).Count | Should -BeGreaterThan 0
    }

    It 'rollout status fails with the progress deadline when new pods crash-loop' {
        $null = Set-KubernetesStandIn $script:K8s @{ crashLoop = $true; progressDeadlineSeconds = 2 }
        (Kubectl rollout restart deployment/pms-backend -n pms).ExitCode | Should -Be 0
        $status = Kubectl rollout status deployment/pms-backend -n pms --timeout=60s
        $status.ExitCode | Should -Be 1
        $status.Stderr | Should -Match 'deployment "pms-backend" exceeded its progress deadline'
        $crashing = Get-Pods | Where-Object { $_.status.containerStatuses[0].state.waiting.reason -eq 'CrashLoopBackOff' }
        @($crashing).Count | Should -Be 1
        @(Get-Pods | Where-Object { $_.status.containerStatuses[0].ready }).Count | Should -Be 2 -Because 'maxUnavailable 0 keeps the old pods serving'
    }

    It 'rollout undo brings back the previous revision''s template from its ReplicaSet' {
        $original = Get-Deployment
        (Kubectl rollout restart deployment/pms-backend -n pms).ExitCode | Should -Be 0
        (Kubectl rollout status deployment/pms-backend -n pms --timeout=60s).ExitCode | Should -Be 0
        $firstRs = Get-ReplicaSets | Where-Object { (Revision $_) -eq 1 }
        $undo = Kubectl rollout undo deployment/pms-backend -n pms
        $undo.ExitCode | Should -Be 0 -Because $undo.Stderr
        $undo.Stdout | Should -Match 'rolled back'
        (Kubectl rollout status deployment/pms-backend -n pms --timeout=60s).ExitCode | Should -Be 0

        $after = Get-Deployment
        $after.spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -BeNullOrEmpty
        ConvertTo-SortedJson $after.spec.template | Should -Be (ConvertTo-SortedJson $original.spec.template)
        $sets = Get-ReplicaSets
        $sets.Count | Should -Be 2 -Because 'the undo reuses the first ReplicaSet instead of creating a third'
        Revision ($sets | Where-Object { $_.metadata.name -eq $firstRs.metadata.name }) | Should -Be 3
        Get-Pods | ForEach-Object { $_.metadata.ownerReferences[0].name | Should -Be $firstRs.metadata.name }
        $patch = Get-KubeRequests $script:K8s | Where-Object { $_.method -eq 'PATCH' -and $_.contentType -eq 'application/json-patch+json' }
        @($patch).Count | Should -Be 1
        $patch.body | Should -Match '"path":"/spec/template"'
    }

    It 'logs deployment/NAME --tail returns the last lines of a pod''s log' {
        $null = Invoke-RestMethod -Method Post "$($script:K8s.BaseUri)/_control/logs" -ContentType 'application/json' -Body (@{ lines = @('{"event":"feature_flag_toggled","flag":"new_billing_engine","enabled":false}', 'plain last line') } | ConvertTo-Json)
        $result = Kubectl logs deployment/pms-backend -n pms --tail=2
        $result.ExitCode | Should -Be 0 -Because $result.Stderr
        $lines = @($result.Stdout.TrimEnd("`n") -split "`n")
        $lines.Count | Should -Be 2
        $lines[0] | Should -Match 'feature_flag_toggled'
        $lines[1] | Should -Be 'plain last line'
        $logRequest = Get-KubeRequests $script:K8s | Where-Object { $_.path -match '/pods/.+/log$' }
        $logRequest.query | Should -Match 'tailLines=2'
        $logRequest.query | Should -Match 'container=backend'
    }

    It 'top pods reads the metrics API' {
        $result = Kubectl top pods -n pms
        $result.ExitCode | Should -Be 0 -Because $result.Stderr
        $rows = @($result.Stdout -split "`n" | Where-Object { $_ -match '^pms-backend-' })
        $rows.Count | Should -Be 2
        $rows | ForEach-Object { $_ | Should -Match '\d+m\s+\d+Mi' }
    }
}
