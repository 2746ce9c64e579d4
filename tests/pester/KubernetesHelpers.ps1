# Starting the Kubernetes stand-in (tests/PMS.Flags.TestServers/Kubernetes), writing a kubeconfig for it and running the
# real kubectl against it. Dot-source it in BeforeAll. The token below is the secret the tests look for in output.

$script:KubeToken = 'k8s-PMS-SECRET-5e1d7c0b-never-print'
$script:BackendToken = 'backend-PMS-SECRET-99aa'

function Start-KubernetesStandIn {
    param([int] $Replicas = 2, [double] $PodReadySeconds = 0.3, [string] $Document, [string] $Directory)
    $arguments = @('kubernetes', '--token', $script:KubeToken, '--backend-token', $script:BackendToken, '--replicas', "$Replicas", '--pod-ready-seconds', "$PodReadySeconds")
    if ($Document) {
        $file = Join-Path $Directory 'initial-document.json'
        [IO.File]::WriteAllText($file, $Document)
        $arguments += @('--document', $file)
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.ArgumentList.Add($env:PMS_FLAGS_TESTSERVERS)
    foreach ($a in $arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch '^LISTENING (http://127\.0\.0\.1:\d+) (https://127\.0\.0\.1:\d+)$') { $process.Kill(); throw "The Kubernetes stand-in did not start: $line" }
    $server = [pscustomobject]@{ Process = $process; BaseUri = $Matches[1]; TlsUri = $Matches[2]; Ca = $null }
    $server.Ca = Invoke-RestMethod "$($server.BaseUri)/_control/ca"
    $server
}

function Stop-KubernetesStandIn($Server) {
    if (-not $Server) { return }
    try { $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/shutdown" -TimeoutSec 5 } catch { }
    if (-not $Server.Process.WaitForExit(10000)) { $Server.Process.Kill() }
}

function New-StandInKubeConfig {
    <# A kubeconfig for the stand-in's https port with its CA and the bearer token; -Token overrides it (a wrong one). #>
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $Path, [string] $Token = $script:KubeToken, [string] $ServerUri = $Server.TlsUri, [string] $Context = 'standin')
    $ca = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes($Server.Ca))
    @"
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: $ServerUri
    certificate-authority-data: $ca
users:
- name: pms-operator
  user:
    token: $Token
contexts:
- name: $Context
  context:
    cluster: standin
    user: pms-operator
    namespace: pms
current-context: $Context
"@ | Set-Content -LiteralPath $Path
    $Path
}

function Reset-KubernetesStandIn($Server) {
    $null = Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/reset"
}

function Set-KubernetesStandIn($Server, [hashtable] $Settings) {
    Invoke-RestMethod -Method Post "$($Server.BaseUri)/_control/config" -ContentType 'application/json' -Body ($Settings | ConvertTo-Json)
}

function Get-KubeRequests($Server) { @((Invoke-RestMethod "$($Server.BaseUri)/_control/requests").items) }

function Clear-KubeRequests($Server) { $null = Invoke-RestMethod -Method Delete "$($Server.BaseUri)/_control/requests" }

function Get-StandInConfigMap($Server, [string] $Namespace = 'pms', [string] $Name = 'feature-flags-config') {
    Invoke-RestMethod "$($Server.BaseUri)/_control/configmaps/$Namespace/$Name"
}

function Get-StandInState($Server) { Invoke-RestMethod "$($Server.BaseUri)/_control/state" }

function Invoke-Kubectl {
    <#
    Runs the real kubectl, pinned to its 1.32 client (the dispatcher would otherwise pick a client from /version) and with
    a fresh cache directory, so every call sends its full request sequence. Returns exit code, stdout and stderr.
    #>
    param([Parameter(Mandatory)] [string] $KubeConfig, [Parameter(Mandatory)] [string] $CacheDirectory, [Parameter(Mandatory)] [string[]] $Arguments)
    $kubectl = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32'
    if (-not (Test-Path $kubectl)) { $kubectl = (Get-Command kubectl -CommandType Application -ErrorAction Stop).Source }
    $psi = [System.Diagnostics.ProcessStartInfo]::new($kubectl)
    foreach ($a in @('--kubeconfig', $KubeConfig, '--cache-dir', $CacheDirectory) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['HOME'] = Split-Path $CacheDirectory
    $process = [System.Diagnostics.Process]::Start($psi)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit(120000)) { $process.Kill(); throw "kubectl $Arguments did not finish within 120 s." }
    [pscustomobject]@{ ExitCode = $process.ExitCode; Stdout = $stdout.Result; Stderr = $stderr.Result }
}
