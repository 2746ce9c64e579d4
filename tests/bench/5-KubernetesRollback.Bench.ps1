<#
.SYNOPSIS
    Emergency rollback on the ConfigMap store against the Kubernetes stand-in (2 replicas, each new pod ready after
    -PodReadySeconds, so the stand-in's configured rollout takes 2 x that): requests before the ConfigMap holds the flag
    off (goal <= 2), the module's own overhead above the stand-in up to flag-off (goal <= 50 ms; baseline: the same GET +
    PUT sent directly with HttpClient), and restart-to-pods-ready over the configured rollout time (goal ~1.0: the tool
    adds no waiting of its own).
#>
param([Parameter(Mandatory)] [string] $ModulePath, [string] $PwshDll, [int] $Runs = 11, [double] $PodReadySeconds = 0.5)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../pester/KubernetesHelpers.ps1')
$work = Join-Path ([IO.Path]::GetTempPath()) ("pms-k8s-bench-" + [guid]::NewGuid())
$null = New-Item -ItemType Directory $work
$k8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds $PodReadySeconds
try {
    $kubeConfig = New-StandInKubeConfig -Server $k8s -Path (Join-Path $work 'kubeconfig')
    Import-Module $ModulePath
    $env:PMS_FLAGS_STATE_DIR = Join-Path $work 'state'
    Connect-FlagLedger -Path (Join-Path $work 'audit.jsonl') | Out-Null
    Connect-FlagStore -ConfigMap -Namespace pms -Name feature-flags-config -Deployment pms-backend -KubeConfig $kubeConfig | Out-Null
    $configured = (Get-StandInState $k8s).configuredRolloutSeconds

    # The same two requests the store makes, sent directly over the same https port (TLS session warm).
    $handler = [System.Net.Http.HttpClientHandler]::new()
    # A script-block callback would run on a thread without a runspace; on loopback against the stand-in the built-in
    # accept-any validator is fine for a baseline (the module itself verifies the stand-in's CA).
    $handler.ServerCertificateCustomValidationCallback = [System.Net.Http.HttpClientHandler]::DangerousAcceptAnyServerCertificateValidator
    $client = [System.Net.Http.HttpClient]::new($handler)
    $client.DefaultRequestHeaders.Authorization = [System.Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $script:KubeToken)
    $url = "$($k8s.TlsUri)/api/v1/namespaces/pms/configmaps/feature-flags-config"
    function Send-RawOff {
        # Text only (no JSON parsing in PowerShell), so the baseline is the two requests and little else.
        $text = $client.GetStringAsync($url).GetAwaiter().GetResult()
        $text = $text.Replace('\"patient_portal_v2\": { \"enabled\": true', '\"patient_portal_v2\": { \"enabled\": false')
        $content = [System.Net.Http.StringContent]::new($text, [Text.Encoding]::UTF8, 'application/json')
        $response = $client.PutAsync($url, $content).GetAwaiter().GetResult()
        if (-not $response.IsSuccessStatusCode) { throw "raw PUT failed: $($response.StatusCode)" }
    }

    Reset-KubernetesStandIn $k8s
    Clear-KubeRequests $k8s
    $first = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'bench' -Force
    $requests = @(Get-KubeRequests $k8s)
    $firstPut = [array]::FindIndex([object[]]$requests, [Predicate[object]] { param($r) $r.method -eq 'PUT' })
    'emergency rollback (ConfigMap store): {0} sequential request(s) before the ConfigMap held the flag off (goal <= 2); {1} request(s) in all (restart, rollout-status polling and read-back included)' -f ($firstPut + 1), $requests.Count

    foreach ($i in 1..3) { Reset-KubernetesStandIn $k8s; Send-RawOff; Reset-KubernetesStandIn $k8s; $null = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'warm-up' -Force }
    $raw = foreach ($i in 1..$Runs) { Reset-KubernetesStandIn $k8s; $sw = [Diagnostics.Stopwatch]::StartNew(); Send-RawOff; $sw.Elapsed.TotalMilliseconds }
    $results = foreach ($i in 1..$Runs) { Reset-KubernetesStandIn $k8s; $start = [DateTimeOffset]::UtcNow; $r = Invoke-EmergencyRollback -Flag patient_portal_v2 -Environment production -Reason 'bench' -Force; [pscustomobject]@{ Start = $start; Result = $r } }
    $median = { param($v) ($v | Sort-Object)[[int]([Math]::Floor(@($v).Count / 2))] }
    $toOff = & $median @($results | ForEach-Object { ($_.Result.FlagOffAt - $_.Start).TotalMilliseconds })
    $ratio = & $median @($results | ForEach-Object { ($_.Result.PodsReadyAt - $_.Result.RestartedAt).TotalSeconds / $configured })
    $toReady = & $median @($results | ForEach-Object { ($_.Result.PodsReadyAt - $_.Start).TotalSeconds })
    $rawMedian = & $median $raw
    'raw GET + PUT (baseline): median {0:N1} ms' -f $rawMedian
    'Invoke-EmergencyRollback, invocation to ConfigMap off: median {0:N1} ms; module overhead above the stand-in {1:N1} ms (goal <= 50 ms)' -f $toOff, ($toOff - $rawMedian)
    'restart to pods ready over the configured rollout time ({0:N2} s = 2 replicas x {1:N2} s): median ratio {2:N3} (goal ~1.0); invocation to pods ready: median {3:N2} s; WithinSla {4}' -f $configured, $PodReadySeconds, $ratio, $toReady, (@($results | Where-Object { $_.Result.WithinSla }).Count -eq $Runs)
}
finally {
    Stop-KubernetesStandIn $k8s
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
