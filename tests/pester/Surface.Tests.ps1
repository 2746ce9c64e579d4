#Requires -Version 7.4
# The public contract, pinned: exported cmdlets, their parameter names, output types and ShouldProcess settings.
# A failure here means a contract change: make it deliberately, update this file, and say so in the change note.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters

    $script:Contract = [ordered]@{
        'Connect-FlagLedger'       = @{ Parameters = 'CheckpointPath', 'ConnectionString', 'Credential', 'NoDefault', 'Path', 'Schema', 'SigningKeyPath', 'SkipVerification', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Ledger.JsonlLedger', 'PMS.Flags.Engine.Ledger.Postgres.PostgresLedger' }
        'Connect-FlagStore'        = @{ Parameters = 'ApiKey', 'BaseUri', 'ConfigMap', 'Deployment', 'Environment', 'Key', 'KubeConfig', 'KubeContext', 'LaunchDarkly', 'Name', 'Namespace', 'NoDefault', 'NoRestart', 'Path', 'ProjectKey', 'ProtectedEnvironment', 'RolloutTimeout', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Flags.LocalFileFlagStore', 'PMS.Flags.Engine.Flags.LaunchDarkly.LaunchDarklyFlagStore', 'PMS.Flags.Engine.Kubernetes.ConfigMapFlagStore' }
        'Disable-Flag'             = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'High' }
        'Enable-Flag'              = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'OverrideReadiness', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'High' }
        'Export-FlagAudit'         = @{ Parameters = 'Confirm', 'Force', 'Format', 'InputObject', 'Ledger', 'Path', 'PublicKeyPath', 'WhatIf'; OutputType = 'System.IO.FileInfo'; Impact = 'Medium' }
        'Copy-FlagAudit'           = @{ Parameters = 'Confirm', 'From', 'Reason', 'To', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Ledger.Postgres.LedgerCopyResult'; Impact = 'Medium' }
        'Save-FlagAuditArchive'    = @{ Parameters = 'Before', 'Confirm', 'Force', 'Ledger', 'Path', 'Reason', 'RetentionPeriod', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Ledger.Archive.AuditArchiveResult'; Impact = 'Medium' }
        'Get-Flag'                 = @{ Parameters = 'Environment', 'Flag', 'Store'; OutputType = 'PMS.Flags.Engine.Flags.FlagState' }
        'Get-FlagAudit'            = @{ Parameters = 'AfterSequence', 'Environment', 'EventType', 'First', 'Flag', 'IncludePending', 'Ledger', 'Newest', 'Since', 'Skip', 'Until', 'User'; OutputType = 'PMS.Flags.Engine.Ledger.AuditEvent' }
        'Invoke-EmergencyRollback' = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Notify', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollbacks.RollbackResult'; Impact = 'High' }
        'Set-FlagPercentage'       = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'OverrideReadiness', 'Percentage', 'Reason', 'Rule', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'Medium' }
        'Test-FlagAuditChain'      = @{ Parameters = 'CheckpointPath', 'ExpectedHead', 'Ledger', 'Path', 'PublicKeyPath'; OutputType = 'PMS.Flags.Engine.Ledger.ChainVerification' }
        'New-FlagAuditCheckpoint'  = @{ Parameters = 'CheckpointPath', 'Confirm', 'Ledger', 'Reason', 'SigningKeyPath', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Ledger.Checkpoints.Checkpoint'; Impact = 'Medium' }
        'Repair-FlagLedger'        = @{ Parameters = 'Confirm', 'Ledger', 'Path', 'Reason', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Ledger.Checkpoints.LedgerRepairResult'; Impact = 'Medium' }
        'Sync-FlagLedger'          = @{ Parameters = 'Confirm', 'Ledger', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Ledger.AuditEvent'; Impact = 'Medium' }
        'New-FlagGuardrail'        = @{ Parameters = 'AlertmanagerUrl', 'AlertName', 'BadQuery', 'Cohort', 'Control', 'Deployment', 'FalseAlarmRate', 'Flag', 'FlagLabel', 'For', 'HealthUrl', 'KubeConfig', 'KubeContext', 'Matcher', 'MaximumLatencySeconds', 'MinimumRelativeRegression', 'MinimumSamples', 'MinimumTraffic', 'MinimumTrafficQuery', 'Name', 'Namespace', 'NoData', 'Operator', 'Preset', 'PrometheusUrl', 'Query', 'Severity', 'Threshold', 'TotalQuery', 'Treatment', 'VariantLabel', 'Window'; OutputType = 'PMS.Flags.Engine.Guardrails.GuardrailDefinition' }
        'Test-FlagGuardrail'       = @{ Parameters = 'Guardrail'; OutputType = 'PMS.Flags.Engine.Guardrails.GuardrailResult' }
        'Start-FlagRollout'        = @{ Parameters = 'ApprovalTicket', 'BakeTime', 'Confirm', 'Environment', 'Flag', 'Guardrail', 'Ledger', 'Notify', 'NoWait', 'OverrideReadiness', 'PollInterval', 'Reason', 'Rule', 'Stages', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutState'; Impact = 'Medium' }
        'Step-FlagRollout'         = @{ Parameters = 'Confirm', 'Environment', 'Flag', 'Ledger', 'Notify', 'RolloutId', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutStepResult'; Impact = 'Low' }
        'Get-FlagRollout'          = @{ Parameters = 'Active', 'Environment', 'Flag', 'Ledger', 'RolloutId', 'Store'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutState' }
        'Suspend-FlagRollout'      = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Ledger', 'Reason', 'RolloutId', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutState'; Impact = 'Medium' }
        'Resume-FlagRollout'       = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Ledger', 'Reason', 'RolloutId', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutState'; Impact = 'Medium' }
        'Stop-FlagRollout'         = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Notify', 'Reason', 'RolloutId', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollouts.RolloutStepResult'; Impact = 'High' }
        'Get-PmsDeploymentHealth'  = @{ Parameters = 'ConfigMap', 'Deployment', 'HealthUrl', 'KubeConfig', 'KubeContext', 'Namespace'; OutputType = 'PMS.Flags.Engine.Kubernetes.DeploymentHealth' }
        'Restart-PmsDeployment'    = @{ Parameters = 'Confirm', 'Deployment', 'KubeConfig', 'KubeContext', 'Ledger', 'Namespace', 'Reason', 'Timeout', 'User', 'Wait', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Kubernetes.DeploymentRolloutResult'; Impact = 'Medium' }
        'Undo-PmsDeployment'       = @{ Parameters = 'Confirm', 'Deployment', 'Force', 'KubeConfig', 'KubeContext', 'Ledger', 'Namespace', 'Reason', 'Timeout', 'ToRevision', 'User', 'Wait', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Kubernetes.DeploymentRolloutResult'; Impact = 'High' }
        'Get-PmsLog'               = @{ Parameters = 'Deployment', 'KubeConfig', 'KubeContext', 'Match', 'Namespace', 'Since', 'Tail'; OutputType = 'System.Management.Automation.PSObject' }
        'Test-FlagPropagation'     = @{ Parameters = 'ConfigMap', 'Deployment', 'Environment', 'Flag', 'Key', 'KubeConfig', 'KubeContext', 'Namespace', 'StatusUrl', 'Token'; OutputType = 'PMS.Flags.Engine.Kubernetes.PropagationReport' }
        'Get-PmsMigration'         = @{ Parameters = 'ConnectionString', 'ScriptLocation', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Migrations.MigrationStatus' }
        # Medium on the attribute because of -Upgrade; -Downgrade and -Stamp ask as High (see Migrations.Tests.ps1).
        'Invoke-PmsMigration'      = @{ Parameters = 'AlembicPath', 'AllowDataLoss', 'ApprovalTicket', 'Confirm', 'ConnectionString', 'Container', 'Deployment', 'Downgrade', 'Environment', 'Force', 'KubeConfig', 'KubeContext', 'Ledger', 'Namespace', 'PodAlembicConfig', 'Reason', 'ScriptLocation', 'Stamp', 'TimeoutSec', 'Upgrade', 'User', 'Via', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Migrations.MigrationResult'; Impact = 'Medium' }
        'Invoke-PlannedRollback'   = @{ Parameters = 'AlembicPath', 'AllowDataLoss', 'ApprovalTicket', 'Confirm', 'ConnectionString', 'Container', 'Deployment', 'DeploymentTimeout', 'Environment', 'Flag', 'Force', 'HealthUri', 'KubeConfig', 'KubeContext', 'Ledger', 'MigrationTarget', 'Namespace', 'Reason', 'ScriptLocation', 'StabilizeFor', 'Store', 'UndoDeployment', 'User', 'Via', 'WhatIf'; OutputType = 'PMS.Flags.Engine.PlannedRollbacks.PlannedRollbackResult'; Impact = 'High' }
        'Test-PmsDatabase'         = @{ Parameters = 'ConnectionString', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Migrations.DatabaseProbe' }
        'Get-PmsDatabaseTable'     = @{ Parameters = 'ConnectionString', 'Name', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Migrations.DatabaseTable' }
        'New-FlagChecklist'        = @{ Parameters = 'Confirm', 'Environment', 'Flag', 'Ledger', 'Plan', 'Reason', 'Store', 'Template', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Readiness.ReadinessReport'; Impact = 'Low' }
        'Approve-FlagChecklistItem' = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Evidence', 'Flag', 'Item', 'Ledger', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Readiness.ChecklistItemStatus'; Impact = 'Low' }
        'Test-FlagReadiness'       = @{ Parameters = 'Environment', 'Flag', 'Ledger', 'Plan', 'Store'; OutputType = 'PMS.Flags.Engine.Readiness.ReadinessReport' }
        'Export-FlagAlertRule'     = @{ Parameters = 'Confirm', 'Force', 'Guardrail', 'GroupName', 'Path', 'WhatIf'; OutputType = 'System.String', 'System.IO.FileInfo'; Impact = 'Medium' }
        'New-FlagNotification'     = @{ Parameters = 'ApprovalTicket', 'BakeTime', 'Contact', 'DashboardUrl', 'Environment', 'Flag', 'Format', 'Ledger', 'NextSteps', 'Reason', 'Rollout', 'Stages', 'StartTime', 'Store', 'Template', 'TemplatePath'; OutputType = 'PMS.Flags.Engine.Notifications.FlagNotification' }
        'New-FlagNotificationChannel' = @{ Parameters = 'Grafana', 'Name', 'Slack', 'Teams', 'TimeoutSec', 'Token', 'Uri', 'Webhook'; OutputType = 'PMS.Flags.Engine.Notifications.NotificationChannel' }
        'Send-FlagNotification'    = @{ Parameters = 'Channel', 'Confirm', 'Ledger', 'Notification', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Notifications.NotificationDelivery'; Impact = 'Low' }
    }

    # The cmdlets that act on one rollout: named by -RolloutId (piped by property name from Get-FlagRollout) or by
    # -Flag/-Environment (its one active rollout). Only RolloutId binds from the pipeline: a piped RolloutState has all
    # three properties, and binding Flag too would make its parameter set ambiguous.
    $script:RolloutTargetCmdlets = 'Step-FlagRollout', 'Suspend-FlagRollout', 'Resume-FlagRollout', 'Stop-FlagRollout'

    function Get-CmdletAttribute([string] $Name) {
        (Get-Command $Name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0]
    }
}

Describe 'Module surface' -Tag Surface {
    It 'exports exactly the contract''s cmdlets, and nothing else' {
        $module = Get-Module PMS.Flags
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($script:Contract.Keys | Sort-Object)
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
        $module.ExportedVariables.Count | Should -Be 0
    }

    It 'has an explicit manifest for PowerShell 7.4+ Core, with no dependency dll in RequiredAssemblies' {
        $manifest = Import-PowerShellDataFile $env:PMS_FLAGS_MODULE
        $manifest.RootModule | Should -Be 'PMS.Flags.Cmdlets.dll'
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.PowerShellVersion | Should -Be '7.4'
        @($manifest.CmdletsToExport | Sort-Object) | Should -Be @($script:Contract.Keys | Sort-Object)
        $manifest.ContainsKey('RequiredAssemblies') | Should -BeFalse
        $manifest.FormatsToProcess | Should -Be @('PMS.Flags.Format.ps1xml')
    }

    It 'has a table view for every output type of the module''s own' {
        foreach ($type in $script:Contract.Values.OutputType | Where-Object { $_ -like 'PMS.*' } | Sort-Object -Unique) {
            $views = @((Get-FormatData -TypeName $type).FormatViewDefinition)
            $views.Control.GetType().Name | Should -Contain 'TableControl' -Because $type
        }
    }

    It 'has table views for the rollout and guardrail types, with the columns people read' -ForEach @(
        @{ Type = 'PMS.Flags.Engine.Guardrails.GuardrailDefinition'; Columns = 'Name', 'Kind', 'Severity', 'For', 'NoData', 'Expression' }
        @{ Type = 'PMS.Flags.Engine.Guardrails.GuardrailResult'; Columns = 'Guardrail', 'Severity', 'Status', 'Value', 'Threshold' }
        @{ Type = 'PMS.Flags.Engine.Rollouts.RolloutState'; Columns = 'RolloutId', 'Flag', 'Environment', 'Status', 'Percentage' }
        @{ Type = 'PMS.Flags.Engine.Rollouts.RolloutStepResult'; Columns = 'Flag', 'Environment', 'Action', 'Percentage', 'Reason' }
    ) {
        $table = @((Get-FormatData -TypeName $Type).FormatViewDefinition | Where-Object { $_.Control -is [System.Management.Automation.TableControl] })
        $table.Count | Should -BeGreaterOrEqual 1 -Because $Type
        $labels = @($table[0].Control.Headers.Label)
        foreach ($column in $Columns) { $labels | Should -Contain $column -Because "$Type shows $column" }
    }
}

Describe 'Cmdlet <_>' -Tag Surface -ForEach @(
    'Connect-FlagLedger', 'Connect-FlagStore', 'Disable-Flag', 'Enable-Flag', 'Export-FlagAudit', 'Get-Flag', 'Get-FlagAudit',
    'Invoke-EmergencyRollback', 'Set-FlagPercentage', 'Test-FlagAuditChain',
    'New-FlagGuardrail', 'Test-FlagGuardrail', 'Start-FlagRollout', 'Step-FlagRollout', 'Get-FlagRollout',
    'Suspend-FlagRollout', 'Resume-FlagRollout', 'Stop-FlagRollout',
    'Get-PmsMigration', 'Invoke-PmsMigration', 'Test-PmsDatabase', 'Get-PmsDatabaseTable',
    'Copy-FlagAudit',
    'Save-FlagAuditArchive',
    'Invoke-PlannedRollback',
    'New-FlagChecklist', 'Approve-FlagChecklistItem', 'Test-FlagReadiness',
    'Export-FlagAlertRule', 'New-FlagNotification', 'New-FlagNotificationChannel', 'Send-FlagNotification'
) {
    BeforeAll {
        $name = $_
        $command = Get-Command $name
        $expected = $script:Contract[$name]
    }

    It 'has exactly the pinned parameters' {
        @($command.Parameters.Keys | Where-Object { $_ -notin $script:CommonParameters } | Sort-Object) | Should -Be @($expected.Parameters | Sort-Object)
    }

    It 'declares its OutputType' {
        @($command.OutputType.Name) | Should -Be @($expected.OutputType)
    }

    It 'is a sealed PSCmdlet class named after the command' {
        $type = $command.ImplementingType
        $type.IsSealed | Should -BeTrue
        $type.IsSubclassOf([System.Management.Automation.PSCmdlet]) | Should -BeTrue
        $type.FullName | Should -Be ("PMS.Flags.Cmdlets.Commands.{0}Command" -f ($name -replace '-', ''))
    }

    It 'supports ShouldProcess if and only if it changes something, with the pinned ConfirmImpact' {
        $attribute = Get-CmdletAttribute $name
        $attribute.SupportsShouldProcess | Should -Be ([bool]$expected.Impact)
        if ($expected.Impact) { $attribute.ConfirmImpact.ToString() | Should -Be $expected.Impact }
    }
}

# Generated only where they apply, so that no case passes without an assertion. The first case checks the lists
# against the contract, so a new cmdlet with -Flag or -Environment cannot slip past both.
BeforeDiscovery {
    $script:PipedByFlag = 'Disable-Flag', 'Enable-Flag', 'Get-Flag', 'Get-FlagAudit', 'Invoke-EmergencyRollback', 'Set-FlagPercentage', 'Start-FlagRollout', 'Get-FlagRollout', 'Test-FlagPropagation', 'Invoke-PlannedRollback'
    $script:PipedByFlag += 'New-FlagChecklist', 'Approve-FlagChecklistItem', 'Test-FlagReadiness'
    $script:PipedByFlag += 'New-FlagNotification'
    # Cmdlets whose -Flag or -Environment does not name what they act on, so nothing pipes a flag into them.
    $script:NotFlagTargets = @{
        'New-FlagGuardrail'   = 'its -Flag names the flag whose cohorts a guardrail compares'
        'Invoke-PmsMigration' = 'its -Environment labels the migration event; the target is the database'
    }
    $script:PipedByRolloutId = 'Step-FlagRollout', 'Suspend-FlagRollout', 'Resume-FlagRollout', 'Stop-FlagRollout'
}

Describe 'Pipeline binding' -Tag Surface {
    It 'covers every cmdlet with -Flag or -Environment (Connect-FlagStore''s -Environment is a default, not a target)' -TestCases @(@{ ByFlag = $script:PipedByFlag; ById = $script:PipedByRolloutId; NotTargets = $script:NotFlagTargets }) {
        $targets = @($script:Contract.Keys | Where-Object { $_ -ne 'Connect-FlagStore' -and -not $NotTargets.ContainsKey($_) -and ($script:Contract[$_].Parameters -contains 'Flag' -or $script:Contract[$_].Parameters -contains 'Environment') })
        @($targets | Sort-Object) | Should -Be @(@($ByFlag) + @($ById) | Sort-Object)
        @($ById | Sort-Object) | Should -Be @($script:RolloutTargetCmdlets | Sort-Object)
    }

    It '<_> binds Flag (alias Key) and Environment from the pipeline by property name' -ForEach $script:PipedByFlag {
        $command = Get-Command $_
        foreach ($parameterName in 'Flag', 'Environment') {
            $command.Parameters.ContainsKey($parameterName) | Should -BeTrue -Because "$_ has -$parameterName"
            $parameter = $command.Parameters[$parameterName]
            # Test-FlagPropagation's -Key is the ConfigMap's data key, so its -Flag cannot carry the Key alias.
            if ($parameterName -eq 'Flag' -and $_ -ne 'Test-FlagPropagation') { $parameter.Aliases | Should -Contain 'Key' }
            $parameter.ParameterSets.Values.ValueFromPipelineByPropertyName | Should -Not -Contain $false
        }
    }

    It '<_> names a rollout by -RolloutId (position 0, piped by property name, the default set) or by -Flag (alias Key)/-Environment' -ForEach $script:PipedByRolloutId {
        $command = Get-Command $_
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('ByFlag', 'ById')
        $command.DefaultParameterSet | Should -Be 'ById'
        $rolloutId = $command.Parameters['RolloutId'].ParameterSets['ById']
        $rolloutId.IsMandatory | Should -BeTrue
        $rolloutId.Position | Should -Be 0
        $rolloutId.ValueFromPipelineByPropertyName | Should -BeTrue
        $command.Parameters['Flag'].Aliases | Should -Contain 'Key'
        $command.Parameters['Flag'].ParameterSets['ByFlag'].IsMandatory | Should -BeTrue
        $command.Parameters['Flag'].ParameterSets['ByFlag'].ValueFromPipelineByPropertyName | Should -BeFalse
        $command.Parameters['Environment'].ParameterSets.Keys | Should -Be @('ByFlag')
    }
}

Describe 'Parameter details' -Tag Surface {
    It '<Command> -<Parameter> is mandatory: <Mandatory>' -ForEach @(
        @{ Command = 'Set-FlagPercentage'; Parameter = 'Flag'; Mandatory = $true }
        @{ Command = 'Set-FlagPercentage'; Parameter = 'Percentage'; Mandatory = $true }
        @{ Command = 'Set-FlagPercentage'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Set-FlagPercentage'; Parameter = 'ApprovalTicket'; Mandatory = $false }
        @{ Command = 'Disable-Flag'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Invoke-EmergencyRollback'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Export-FlagAudit'; Parameter = 'Format'; Mandatory = $true }
        @{ Command = 'Get-Flag'; Parameter = 'Flag'; Mandatory = $false }
        @{ Command = 'Start-FlagRollout'; Parameter = 'Flag'; Mandatory = $true }
        @{ Command = 'Start-FlagRollout'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Start-FlagRollout'; Parameter = 'ApprovalTicket'; Mandatory = $false }
        @{ Command = 'Start-FlagRollout'; Parameter = 'Stages'; Mandatory = $false }
        @{ Command = 'Start-FlagRollout'; Parameter = 'Guardrail'; Mandatory = $false }
        @{ Command = 'Suspend-FlagRollout'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Resume-FlagRollout'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Stop-FlagRollout'; Parameter = 'Reason'; Mandatory = $true }
        @{ Command = 'Stop-FlagRollout'; Parameter = 'ApprovalTicket'; Mandatory = $false }
        @{ Command = 'Test-FlagGuardrail'; Parameter = 'Guardrail'; Mandatory = $true }
        @{ Command = 'Get-FlagRollout'; Parameter = 'Flag'; Mandatory = $false }
    ) {
        (Get-Command $Command).Parameters[$Parameter].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -Not -Contain (-not $Mandatory)
    }

    It 'Set-FlagPercentage takes Flag and Percentage by position' {
        $parameters = (Get-Command Set-FlagPercentage).Parameters
        $parameters['Flag'].ParameterSets.Values[0].Position | Should -Be 0
        $parameters['Percentage'].ParameterSets.Values[0].Position | Should -Be 1
    }

    It 'Get-Flag -Flag supports wildcards' {
        (Get-Command Get-Flag).Parameters['Flag'].Attributes.Where({ $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count | Should -Be 1
    }

    It 'Export-FlagAudit takes audit events from the pipeline by value and -Format Json, Csv, Html or Jsonl' {
        $parameters = (Get-Command Export-FlagAudit).Parameters
        $parameters['InputObject'].ParameterSets.Values[0].ValueFromPipeline | Should -BeTrue
        $parameters['Format'].Attributes.Where({ $_ -is [System.Management.Automation.ValidateSetAttribute] }).ValidValues | Should -Be @('Json', 'Csv', 'Html', 'Jsonl')
    }

    It 'New-FlagGuardrail has a Preset set (default), a Custom set, a Health set and a Deployment set, with the pinned choices' {
        $command = Get-Command New-FlagGuardrail
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('Alertmanager', 'Cohort', 'CohortCustom', 'Custom', 'Deployment', 'Health', 'Preset')
        $command.DefaultParameterSet | Should -Be 'Preset'
        $validValues = { param($p) @($command.Parameters[$p].Attributes.Where({ $_ -is [System.Management.Automation.ValidateSetAttribute] }).ValidValues) }
        & $validValues 'Preset' | Should -Be @('HighErrorRate', 'SlowResponseTime')
        & $validValues 'Operator' | Should -BeNullOrEmpty -Because 'the engine parses >, >=, <, <= and the names, giving a bad one GuardrailOperatorInvalid'
        & $validValues 'Cohort' | Should -Be @('CohortErrorRate', 'CohortSlowRequests')
        & $validValues 'Severity' | Should -Be @('Critical', 'Warning')
        & $validValues 'NoData' | Should -Be @('Pause', 'Fail', 'Pass')
        $command.Parameters['Preset'].ParameterSets['Preset'].Position | Should -Be 0
        foreach ($p in 'Name', 'Query', 'Operator', 'Threshold', 'PrometheusUrl') { $command.Parameters[$p].ParameterSets['Custom'].IsMandatory | Should -BeTrue -Because "-$p in Custom" }
        $command.Parameters['HealthUrl'].ParameterSets['Health'].IsMandatory | Should -BeTrue
        $command.Parameters['PrometheusUrl'].ParameterSets.Keys | Should -Not -Contain 'Health'
        $command.Parameters['MinimumTrafficQuery'].ParameterSets.Keys | Should -Not -Contain 'Health'
        $command.Parameters['NoData'].ParameterSets.Keys | Should -Contain '__AllParameterSets'
    }

    It 'New-FlagGuardrail defaults to NoData Pause and Severity Critical (never a silent advance)' {
        $g = New-FlagGuardrail -Name custom -PrometheusUrl http://127.0.0.1:9/ -Query 'up' -Operator LessThan -Threshold 1
        $g.NoData.ToString() | Should -Be 'Pause'
        $g.Severity.ToString() | Should -Be 'Critical'
        $g.For | Should -Be ([timespan]::Zero)
        (New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl http://127.0.0.1:9/).NoData.ToString() | Should -Be 'Pause'
    }

    It 'Test-FlagGuardrail takes guardrails from the pipeline by value' {
        (Get-Command Test-FlagGuardrail).Parameters['Guardrail'].ParameterSets.Values[0].ValueFromPipeline | Should -BeTrue
    }

    It 'Start-FlagRollout takes Flag by position and defaults to the playbook''s stages and a 30-minute bake' {
        $command = Get-Command Start-FlagRollout
        $command.Parameters['Flag'].ParameterSets.Values[0].Position | Should -Be 0
        $instance = [Activator]::CreateInstance($command.ImplementingType)
        $instance.Stages | Should -Be @(5, 25, 50, 100)
        $instance.BakeTime | Should -Be ([timespan]::FromMinutes(30))
        $instance.PollInterval | Should -Be ([timespan]::FromSeconds(30))
    }

    It 'Get-FlagRollout has a List set (default) and a ById set' {
        $command = Get-Command Get-FlagRollout
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('ById', 'List')
        $command.DefaultParameterSet | Should -Be 'List'
        $command.Parameters['RolloutId'].ParameterSets['ById'].ValueFromPipelineByPropertyName | Should -BeTrue
    }

    It 'Test-FlagAuditChain has a Ledger set (default) and a Path set' {
        $command = Get-Command Test-FlagAuditChain
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('Ledger', 'Path')
        $command.DefaultParameterSet | Should -Be 'Ledger'
    }
}
