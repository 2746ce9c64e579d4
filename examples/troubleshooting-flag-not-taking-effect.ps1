<#
.SYNOPSIS
    The playbook's troubleshooting "Feature flag not taking effect": compare what the ConfigMap says, what the pods
    mounted and what the running backend reports, restart the deployment when the pods lag, and read their logs.
.EXAMPLE
    ./examples/troubleshooting-flag-not-taking-effect.ps1 -KubeConfig ~/.kube/config -Flag telehealth_appointments_enabled -Environment production
.EXAMPLE
    ./examples/troubleshooting-flag-not-taking-effect.ps1 -KubeConfig ~/.kube/config -Flag telehealth_appointments_enabled -StatusUrl https://api.pms.example.com/api/v1/feature-flags/status -Token (Read-Host -AsSecureString) -Restart -WorkDirectory ./out/demo
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $KubeConfig,
    [Parameter(Mandatory)] [string] $Flag,
    [string] $Environment = 'production',
    [string] $Namespace = 'pms',
    # The backend's /api/v1/feature-flags/status, and its bearer token as a SecureString.
    [uri] $StatusUrl,
    [securestring] $Token,
    # Restart the deployment when pods that predate the ConfigMap change still serve the old value.
    [switch] $Restart,
    # Where the restart's audit record goes (audit.jsonl); the default ledger when not given.
    [string] $WorkDirectory
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

if ($WorkDirectory) {
    $env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
    Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null
}

$kube = @{ KubeConfig = $KubeConfig; Namespace = $Namespace }
$check = @{ Flag = $Flag; Environment = $Environment; Deployment = 'pms-backend' } + $kube
if ($StatusUrl) { $check.StatusUrl = $StatusUrl; $check.Token = $Token }

Write-Host '== 1. Verify ConfigMap, pods and backend agree'
$report = Test-FlagPropagation @check
$report | Format-List Flag, Environment, StoreValue, ConfigMapChangedAt, Verdict, Recommendation, StatusError | Out-String -Width 160 | Write-Host
$report.Pods | Format-Table | Out-String -Width 160 | Write-Host

# Only stale pods are fixed by a restart; AppDisagrees (the application reads another key or caches) is not.
if ($Restart -and $report.Verdict -eq 'PodsStale') {
    Write-Host '== 2. Restart the pods so they read the ConfigMap again'
    Restart-PmsDeployment -Deployment pms-backend -Wait -Reason "flag $Flag not taking effect" @kube | Format-Table | Out-String -Width 120 | Write-Host
    $report = Test-FlagPropagation @check
    $report | Format-List Flag, Environment, StoreValue, Verdict, Recommendation | Out-String -Width 160 | Write-Host
}

Write-Host '== 3. What the pods logged about feature flags'
Get-PmsLog -Deployment pms-backend -Match 'feature' -Tail 50 @kube | Format-Table | Out-String -Width 160 | Write-Host

# A script or a pipeline step can tell from the exit code whether the flag now takes effect everywhere.
if ($report.Verdict -ne 'Propagated') { exit 1 }
