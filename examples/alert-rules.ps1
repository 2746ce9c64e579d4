<#
.SYNOPSIS
    The playbook's "Alert Thresholds": the rollout's guardrails written as a Prometheus rule file (HighErrorRate and
    SlowResponseTime exactly as the playbook has them), checked by promtool, plus a guardrail that follows an
    Alertmanager alert a team already has.
.EXAMPLE
    ./examples/alert-rules.ps1 -WorkDirectory ./out/demo -PrometheusUri http://prometheus:9090 -AlertmanagerUri http://alertmanager:9093
#>
param(
    [string] $ModulePath = 'PMS.Flags',
    [Parameter(Mandatory)] [string] $WorkDirectory,
    [Parameter(Mandatory)] [string] $PrometheusUri,
    [string] $AlertmanagerUri
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $ModulePath

$guardrails = @(
    New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $PrometheusUri
    New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $PrometheusUri
)
$rules = Join-Path $WorkDirectory 'alerts.yml'
Write-Host "== $rules"
$file = Export-FlagAlertRule -Guardrail $guardrails -Path $rules -Force
Get-Content -Raw $file.FullName | Write-Host

if (Get-Command promtool -CommandType Application -ErrorAction SilentlyContinue) {
    Write-Host '== promtool check rules'
    promtool check rules $rules | Write-Host
    if ($LASTEXITCODE) { exit 1 }
}

if ($AlertmanagerUri) {
    Write-Host '== A rollout guarded by the team''s existing HighErrorRate alert in Alertmanager'
    $watch = New-FlagGuardrail -AlertmanagerUrl $AlertmanagerUri -AlertName HighErrorRate -Matcher @{ severity = 'critical' }
    $watch | Test-FlagGuardrail | Format-Table -AutoSize | Out-String -Width 160 | Write-Host
}
