@{
    RootModule           = 'PMS.Flags.Cmdlets.dll'
    # Imported before the root module: it hooks the engine's load context before PowerShell scans the cmdlet types.
    NestedModules        = @('PMS.Flags.Loader.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '6c0f4f53-0f3a-4c55-9a55-3e8f0b5b7d21'
    Author               = 'PMS DevOps'
    CompanyName          = 'PMS'
    Copyright            = '(c) PMS. All rights reserved.'
    Description          = 'Feature-flag rollouts, rollbacks and a hash-chained audit trail for the Practice Management System: the feature-flag migration playbook as commands. Local feature_flags.json or LaunchDarkly; -WhatIf everywhere; every change audited; emergency rollback within the 5-minute SLA; guarded progressive rollouts.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('PMS.Flags.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-FlagStore'
        'Connect-FlagLedger'
        'Get-Flag'
        'Set-FlagPercentage'
        'Enable-Flag'
        'Disable-Flag'
        'Invoke-EmergencyRollback'
        'Get-FlagAudit'
        'Test-FlagAuditChain'
        'Export-FlagAudit'
        'New-FlagAuditCheckpoint'
        'Repair-FlagLedger'
        'Sync-FlagLedger'
        'Copy-FlagAudit'
        'Save-FlagAuditArchive'
        'New-FlagGuardrail'
        'Test-FlagGuardrail'
        'Start-FlagRollout'
        'Step-FlagRollout'
        'Get-FlagRollout'
        'Suspend-FlagRollout'
        'Resume-FlagRollout'
        'Stop-FlagRollout'
        'Get-PmsDeploymentHealth'
        'Restart-PmsDeployment'
        'Undo-PmsDeployment'
        'Get-PmsLog'
        'Test-FlagPropagation'
        'Get-PmsMigration'
        'Invoke-PmsMigration'
        'Invoke-PlannedRollback'
        'Test-PmsDatabase'
        'Get-PmsDatabaseTable'
        'New-FlagChecklist'
        'Approve-FlagChecklistItem'
        'Test-FlagReadiness'
        'Export-FlagAlertRule'
        'New-FlagNotification'
        'New-FlagNotificationChannel'
        'Send-FlagNotification'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('FeatureFlags', 'Rollout', 'Audit', 'HIPAA', 'LaunchDarkly', 'Rollback', 'DevOps', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://example.invalid/pms/pms-flags'
            LicenseUri   = 'https://example.invalid/pms/pms-flags/blob/main/LICENSE'
            ReleaseNotes = 'Local feature_flags.json and LaunchDarkly stores; Set/Enable/Disable with a hash-chained audit ledger; Invoke-EmergencyRollback (flag off first); guarded progressive rollouts (Start/Step/Stop-FlagRollout) with Prometheus and health-endpoint guardrails; installable with Install-PSResource from a private feed.'
        }
    }
}
