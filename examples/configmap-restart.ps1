<#
.SYNOPSIS
    The playbook's "Option C: Kubernetes ConfigMap": change feature_flags.json in the feature-flags-config ConfigMap,
    restart pms-backend so the pods read it, wait for the rollout, and check that the flag took effect.
.EXAMPLE
    ./examples/configmap-restart.ps1 -WorkDirectory ./out/demo -KubeConfig ~/.kube/config -Namespace pms
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $KubeConfig,
    [string] $KubeContext,
    [string] $Namespace = 'pms',
    [string] $Flag = 'telehealth_appointments_enabled',
    [string] $Environment = 'production'
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$env:PMS_FLAGS_STATE_DIR = Join-Path $WorkDirectory 'state'
$kube = @{ KubeConfig = $KubeConfig; Namespace = $Namespace }
if ($KubeContext) { $kube.KubeContext = $KubeContext }
Connect-FlagStore -ConfigMap feature-flags-config -Deployment pms-backend -Environment $Environment @kube | Out-Null
Connect-FlagLedger -Path (Join-Path $WorkDirectory 'audit.jsonl') 3>$null | Out-Null

Write-Host "== $Flag to 25% in $Environment: ConfigMap patched, deployment restarted, rollout awaited"
Set-FlagPercentage -Flag $Flag -Environment $Environment -Percentage 25 -Reason 'Gradual rollout - Phase 2' -ApprovalTicket CHG-25 |
    Format-Table | Out-String -Width 120 | Write-Host

Write-Host '== Deployment health'
Get-PmsDeploymentHealth -Deployment pms-backend -ConfigMap feature-flags-config @kube | Format-List | Out-String | Write-Host

Write-Host '== Did the pods pick it up?'
$report = Test-FlagPropagation -Flag $Flag -Environment $Environment -Deployment pms-backend @kube
$report | Format-List | Out-String | Write-Host
