# Starting and stopping the servers the rollout tests use: the PMS backend stand-in and a real Prometheus scraping it.
# Dot-source it. Every server listens on 127.0.0.1 only and is stopped by the test that started it.

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-StandInProcess([string[]] $Arguments) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.ArgumentList.Add($env:PMS_FLAGS_TESTSERVERS)
    foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch '^LISTENING (http://127\.0\.0\.1:\d+)$') { $process.Kill(); throw "The stand-in '$($Arguments[0])' did not start: $line" }
    [pscustomobject]@{ Process = $process; BaseUri = $Matches[1] }
}

function Start-BackendStandIn([string] $FlagFile, [string] $Flag, [string] $Environment, [switch] $Faulty, [double] $RequestsPerSecond = 200) {
    $arguments = @('backend', '--flag-file', $FlagFile, '--flag', $Flag, '--environment', $Environment, '--rps', "$RequestsPerSecond")
    if ($Faulty) { $arguments += '--faulty' }
    Start-StandInProcess $arguments
}

function Stop-StandIn($Server) {
    if (-not $Server) { return }
    try { $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/shutdown" -TimeoutSec 5 } catch { }
    if (-not $Server.Process.WaitForExit(10000)) { $Server.Process.Kill() }
}

function Set-BackendFault($Server, [bool] $Faulty, [double] $ErrorRate = 0.5, [double] $LatencySeconds = 3) {
    $body = @{ faulty = $Faulty; errorRate = $ErrorRate; latencySeconds = $LatencySeconds } | ConvertTo-Json
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/fault" -ContentType 'application/json' -Body $body
}

function Set-BackendHealth($Server, [bool] $Healthy) {
    # The stand-in's /health answers 200 while healthy and 503 while not.
    $body = @{ healthy = $Healthy } | ConvertTo-Json
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/health" -ContentType 'application/json' -Body $body
}

function Start-TestPrometheus([string] $Directory, [string] $TargetUri) {
    $port = Get-FreeTcpPort
    $target = ([uri]$TargetUri).Authority
    $config = Join-Path $Directory 'prometheus.yml'
    @"
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pms-backend
    static_configs:
      - targets: ['$target']
"@ | Set-Content $config
    $psi = [System.Diagnostics.ProcessStartInfo]::new('prometheus')
    foreach ($a in "--config.file=$config", "--storage.tsdb.path=$(Join-Path $Directory 'prometheus-data')", "--web.listen-address=127.0.0.1:$port", '--log.level=warn') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $uri = "http://127.0.0.1:$port"
    $server = [pscustomobject]@{ Process = $process; BaseUri = $uri }
    # Prometheus needs about 5-6 s before the first scraped sample can be queried (toolchain.md section 7): poll, never sleep blindly.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ([DateTime]::UtcNow -lt $deadline) {
        try {
            $answer = Invoke-RestMethod "$uri/api/v1/query?query=up" -TimeoutSec 2
            if (@($answer.data.result | Where-Object { $_.value[1] -eq '1' }).Count -gt 0) { return $server }
        }
        catch { }
        Start-Sleep -Milliseconds 200
    }
    Stop-TestPrometheus $server
    throw 'Prometheus did not scrape the backend stand-in within 30 s.'
}

function Wait-PrometheusValue([string] $PrometheusUri, [string] $Query, [scriptblock] $Condition, [int] $TimeoutSeconds = 30) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $answer = Invoke-RestMethod "$PrometheusUri/api/v1/query?query=$([uri]::EscapeDataString($Query))" -TimeoutSec 5
        $values = @($answer.data.result | ForEach-Object { [double]$_.value[1] })
        if ($values.Count -gt 0 -and (& $Condition $values)) { return $values }
        Start-Sleep -Milliseconds 250
    }
    throw "Prometheus never satisfied the condition for '$Query' within $TimeoutSeconds s."
}

function Stop-TestPrometheus($Server) {
    if (-not $Server) { return }
    if (-not $Server.Process.HasExited) {
        $Server.Process.Kill()
        $null = $Server.Process.WaitForExit(10000)
    }
}

function Set-BackendTraffic($Server, [hashtable] $Settings) {
    # Any of: baseErrorRate, cohortErrorRate, cohortSlowRate (shares of EXPOSED requests), rps, faulty, errorRate, latencySeconds.
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/fault" -ContentType 'application/json' -Body ($Settings | ConvertTo-Json)
}
