<#
.SYNOPSIS
    The playbook's troubleshooting "Feature flag not taking effect": compare what the ConfigMap says, what the pods
    mounted and what the running backend reports, restart the deployment when the pods lag, and read their logs.
.EXAMPLE
    ./examples/troubleshooting-flag-not-taking-effect.ps1 -KubeConfig ~/.kube/config -Flag telehealth_appointments_enabled -Environment production
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
    [switch] $Restart
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$kube = @{ KubeConfig = $KubeConfig; Namespace = $Namespace }
$check = @{ Flag = $Flag; Environment = $Environment; Deployment = 'pms-backend' } + $kube
if ($StatusUrl) { $check.StatusUrl = $StatusUrl; $check.Token = $Token }

Write-Host '== 1. Verify ConfigMap, pods and backend agree'
$report = Test-FlagPropagation @check
$report | Format-List | Out-String | Write-Host

if ($Restart -and -not $report.Propagated) {
    Write-Host '== 2. Restart the pods so they read the ConfigMap again'
    Restart-PmsDeployment -Deployment pms-backend -Wait -Reason "flag $Flag not taking effect" @kube | Format-Table | Out-String -Width 120 | Write-Host
    Test-FlagPropagation @check | Format-List | Out-String | Write-Host
}

Write-Host '== 3. What the pods logged about feature flags'
Get-PmsLog -Deployment pms-backend -Match 'feature' -Tail 50 @kube | Format-Table | Out-String -Width 160 | Write-Host
