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

function Start-TestPrometheus([string] $Directory, [string] $TargetUri, [string] $RuleFile, [string] $AlertmanagerUri) {
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
    # Optional: alert rules to evaluate, and an Alertmanager to send the firing ones to.
    if ($RuleFile) { "rule_files:`n  - '$RuleFile'" | Add-Content $config }
    if ($AlertmanagerUri) { "alerting:`n  alertmanagers:`n    - static_configs:`n        - targets: ['$(([uri]$AlertmanagerUri).Authority)']" | Add-Content $config }
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

function Wait-PrometheusAlert([string] $PrometheusUri, [string] $AlertName, [string] $State = 'firing', [int] $TimeoutSeconds = 60) {
    # Polls GET /api/v1/alerts until the alert is in that state (pending or firing); returns the alert.
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $alert = @((Invoke-RestMethod "$PrometheusUri/api/v1/alerts" -TimeoutSec 5).data.alerts | Where-Object { $_.labels.alertname -eq $AlertName -and $_.state -eq $State })
        if ($alert.Count -gt 0) { return $alert[0] }
        Start-Sleep -Milliseconds 250
    }
    throw "Prometheus never had alert '$AlertName' $State within $TimeoutSeconds s."
}

# A real Alertmanager (Debian's prometheus-alertmanager, build/bootstrap/40-alertmanager.sh) with a receiver that
# sends nothing: the tests read its alerts through GET /api/v2/alerts.
function Start-TestAlertmanager([string] $Directory) {
    $executable = Get-Command prometheus-alertmanager -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $executable) { throw 'prometheus-alertmanager is not installed: run build.ps1 Bootstrap (build/bootstrap/40-alertmanager.sh) as root.' }
    $port = Get-FreeTcpPort
    $config = Join-Path $Directory 'alertmanager.yml'
    "route:`n  receiver: nobody`nreceivers:`n  - name: nobody`n" | Set-Content $config
    $psi = [System.Diagnostics.ProcessStartInfo]::new($executable.Source)
    foreach ($a in "--config.file=$config", "--storage.path=$(Join-Path $Directory 'alertmanager-data')", "--web.listen-address=127.0.0.1:$port", '--cluster.listen-address=', '--log.level=warn') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $server = [pscustomobject]@{ Process = $process; BaseUri = "http://127.0.0.1:$port" }
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ([DateTime]::UtcNow -lt $deadline) {
        try { $null = Invoke-RestMethod "$($server.BaseUri)/-/ready" -TimeoutSec 2; return $server } catch { }
        Start-Sleep -Milliseconds 200
    }
    Stop-TestAlertmanager $server
    throw 'Alertmanager did not become ready within 30 s.'
}

function Wait-AlertmanagerAlert([string] $AlertmanagerUri, [string] $AlertName, [int] $TimeoutSeconds = 60) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $alert = @(Invoke-RestMethod "$AlertmanagerUri/api/v2/alerts" -TimeoutSec 5 | Where-Object { $_.labels.alertname -eq $AlertName })
        if ($alert.Count -gt 0) { return $alert[0] }
        Start-Sleep -Milliseconds 250
    }
    throw "Alertmanager never received alert '$AlertName' within $TimeoutSeconds s."
}

function Stop-TestAlertmanager($Server) {
    if (-not $Server) { return }
    if (-not $Server.Process.HasExited) {
        $Server.Process.Kill()
        $null = $Server.Process.WaitForExit(10000)
    }
}

# The notification receivers (Slack, Teams, generic webhook, Grafana annotations) in one stand-in process.
function Start-NotificationStandIn([string] $Secret, [string] $Token) {
    Start-StandInProcess @('notifications', '--secret', $Secret, '--token', $Token)
}

function Set-NotificationMode($Server, [ValidateSet('ok', 'hang', '500')] [string] $Mode) {
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/mode" -ContentType 'application/json' -Body (@{ mode = $Mode } | ConvertTo-Json)
}

function Get-NotificationReceived($Server) {
    # Piped, so the JSON array comes out as one object per notification.
    Invoke-RestMethod "$($Server.BaseUri)/_control/received" -TimeoutSec 5 | ForEach-Object { $_ }
}

function Set-BackendTraffic($Server, [hashtable] $Settings) {
    # Any of: baseErrorRate, cohortErrorRate, cohortSlowRate (shares of EXPOSED requests), rps, faulty, errorRate, latencySeconds.
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/fault" -ContentType 'application/json' -Body ($Settings | ConvertTo-Json)
}

# A throwaway PostgreSQL 15 cluster for the run (toolchain.md section 5), reused by every test file that asks for it:
# Start-TestPostgres starts it once per process, New-TestDatabase gives each file its own database, and
# Stop-TestPostgres (called by Invoke-PesterSuite.ps1 after the run, and on process exit as a safety net) removes it.
# TCP connections need a password (scram-sha-256), so tests exercise real authentication and prove the password never
# leaks; initdb refuses root, so the server runs as the 'postgres' user through runuser when we are root.

$script:PostgresBin = '/usr/lib/postgresql/15/bin'

function Invoke-AsPostgresUser([string] $Program, [string[]] $Arguments) {
    $exe = Join-Path $script:PostgresBin $Program
    $output = if ([Environment]::UserName -eq 'root') { & runuser -u postgres -- $exe @Arguments 2>&1 } else { & $exe @Arguments 2>&1 }
    if ($LASTEXITCODE) { throw "$Program failed ($LASTEXITCODE): $($output -join "`n")" }
}

function Start-TestPostgres {
    if ($global:PmsTestPostgres) { return $global:PmsTestPostgres }
    if (-not (Test-Path (Join-Path $script:PostgresBin 'initdb'))) { throw 'PostgreSQL 15 is not installed: run build.ps1 Bootstrap (build/bootstrap/30-postgres-alembic.sh) as root.' }
    $root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-pg-' + [guid]::NewGuid().ToString('N'))
    $password = 'pg-' + [guid]::NewGuid().ToString('N')
    $null = New-Item -ItemType Directory -Force $root
    $pwFile = Join-Path $root 'pwfile'
    [IO.File]::WriteAllText($pwFile, $password)
    if ([Environment]::UserName -eq 'root') { & chown -R postgres:postgres $root; & chmod 700 $root }
    $port = Get-FreeTcpPort
    Invoke-AsPostgresUser 'initdb' @('-D', "$root/data", '-U', 'postgres', "--pwfile=$pwFile", '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8')
    [IO.File]::Delete($pwFile)
    Invoke-AsPostgresUser 'pg_ctl' @('-D', "$root/data", '-l', "$root/server.log", '-w', '-t', '30', '-o', "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", 'start')
    $cluster = [pscustomobject]@{ Root = $root; Host = '127.0.0.1'; Port = $port; User = 'postgres'; Password = $password; Databases = [Collections.Generic.List[string]]::new() }
    $global:PmsTestPostgres = $cluster
    # If the run dies before Stop-TestPostgres, do not leave a postmaster behind.
    $null = Register-EngineEvent -SourceIdentifier PowerShell.Exiting -Action { if ($global:PmsTestPostgres) { Stop-TestPostgres } }
    $cluster
}

function Invoke-TestPostgresSql([string] $Sql, [string] $Database = 'postgres') {
    <# Runs SQL through the cluster's own unix socket as the superuser (no password: local trust), returning rows as text. #>
    $cluster = Start-TestPostgres
    $psql = Join-Path $script:PostgresBin 'psql'
    $arguments = @('-h', $cluster.Root, '-p', "$($cluster.Port)", '-U', 'postgres', '-d', $Database, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', $Sql)
    $output = if ([Environment]::UserName -eq 'root') { & runuser -u postgres -- $psql @arguments 2>&1 } else { & $psql @arguments 2>&1 }
    if ($LASTEXITCODE) { throw "psql failed ($LASTEXITCODE): $($output -join "`n")" }
    @($output | ForEach-Object { "$_" })
}

function New-TestDatabase([string] $Prefix = 'pester') {
    <# A fresh database for one test file; returns its Npgsql connection string (with the password) and its parts. #>
    $cluster = Start-TestPostgres
    $name = ($Prefix.ToLowerInvariant() -replace '[^a-z0-9_]', '_') + '_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $null = Invoke-TestPostgresSql "CREATE DATABASE $name"
    $cluster.Databases.Add($name)
    [pscustomobject]@{
        Name             = $name
        Host             = $cluster.Host
        Port             = $cluster.Port
        User             = $cluster.User
        Password         = $cluster.Password
        ConnectionString = "Host=$($cluster.Host);Port=$($cluster.Port);Username=$($cluster.User);Password=$($cluster.Password);Database=$name"
    }
}

function Remove-TestDatabase($Database) {
    if (-not $Database -or -not $global:PmsTestPostgres) { return }
    $null = Invoke-TestPostgresSql "DROP DATABASE IF EXISTS $($Database.Name) WITH (FORCE)"
    $null = $global:PmsTestPostgres.Databases.Remove($Database.Name)
}

function Stop-TestPostgres {
    $cluster = $global:PmsTestPostgres
    if (-not $cluster) { return }
    $global:PmsTestPostgres = $null
    try { Invoke-AsPostgresUser 'pg_ctl' @('-D', "$($cluster.Root)/data", '-m', 'fast', '-w', 'stop') }
    finally { Remove-Item -LiteralPath $cluster.Root -Recurse -Force -ErrorAction SilentlyContinue }
}
