<#
.SYNOPSIS
    The playbook's "Option C: Kubernetes ConfigMap": change feature_flags.json in the feature-flags-config ConfigMap,
    restart pms-backend so the pods read it, wait for the rollout, and check that the flag took effect: every pod
    started after the change, and (with -StatusUrl) every pod reporting the new value. In a protected environment
    (production) the readiness gate refuses a percentage above 0 until the flag's checklist passes: see checklist.ps1.
.EXAMPLE
    ./examples/configmap-restart.ps1 -WorkDirectory ./out/demo -KubeConfig ~/.kube/config -Namespace pms
.EXAMPLE
    ./examples/configmap-restart.ps1 -WorkDirectory ./out/demo -KubeConfig ~/.kube/config -StatusUrl https://api.pms.example.com/api/v1/feature-flags/status -Token (Read-Host -AsSecureString)
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $KubeConfig,
    [string] $KubeContext,
    [string] $Namespace = 'pms',
    [string] $Flag = 'telehealth_appointments_enabled',
    [string] $Environment = 'production',
    [ValidateRange(0, 100)] [int] $Percentage = 25,
    # The backend's /api/v1/feature-flags/status, and its bearer token as a SecureString.
    [uri] $StatusUrl,
    [securestring] $Token
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
$kube = @{ KubeConfig = $KubeConfig; Namespace = $Namespace }
if ($KubeContext) { $kube.KubeContext = $KubeContext }
Connect-FlagStore -ConfigMap -Name feature-flags-config -Deployment pms-backend -Environment $Environment @kube | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

Write-Host "== $Flag to $Percentage% in ${Environment}: ConfigMap patched, deployment restarted, rollout awaited"
Set-FlagPercentage -Flag $Flag -Environment $Environment -Percentage $Percentage -Reason 'Gradual rollout - Phase 2' -ApprovalTicket CHG-25 |
    Format-Table | Out-String -Width 120 | Write-Host

Write-Host '== Deployment health'
Get-PmsDeploymentHealth -Deployment pms-backend -ConfigMap feature-flags-config @kube |
    Format-List Deployment, Healthy, DesiredReplicas, ReadyReplicas, UpdatedReplicas, Restarts, StalePods, ConfigMapChangedAt | Out-String | Write-Host

Write-Host '== Did the pods pick it up?'
$check = @{ Flag = $Flag; Environment = $Environment; Deployment = 'pms-backend' } + $kube
if ($StatusUrl) { $check.StatusUrl = $StatusUrl; $check.Token = $Token }
$report = Test-FlagPropagation @check
$report | Format-List Flag, Environment, StoreValue, ConfigMapChangedAt, Verdict, Recommendation, StatusError | Out-String -Width 160 | Write-Host
$report.Pods | Format-Table | Out-String -Width 160 | Write-Host
if ($report.Verdict -ne 'Propagated') { exit 1 }
