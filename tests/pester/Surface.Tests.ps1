#Requires -Version 7.4
# The public contract, pinned: exported cmdlets, their parameter names, output types and ShouldProcess settings.
# A failure here means a contract change: make it deliberately, update this file, and say so in the change note.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters

    $script:Contract = [ordered]@{
        'Connect-FlagLedger'       = @{ Parameters = 'NoDefault', 'Path'; OutputType = 'PMS.Flags.Engine.Ledger.JsonlLedger' }
        'Connect-FlagStore'        = @{ Parameters = 'ApiKey', 'BaseUri', 'Environment', 'LaunchDarkly', 'NoDefault', 'Path', 'ProjectKey', 'ProtectedEnvironment', 'TimeoutSec'; OutputType = 'PMS.Flags.Engine.Flags.LocalFileFlagStore', 'PMS.Flags.Engine.Flags.LaunchDarkly.LaunchDarklyFlagStore' }
        'Disable-Flag'             = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'High' }
        'Enable-Flag'              = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'High' }
        'Export-FlagAudit'         = @{ Parameters = 'Confirm', 'Force', 'Format', 'InputObject', 'Path', 'WhatIf'; OutputType = 'System.IO.FileInfo'; Impact = 'Medium' }
        'Get-Flag'                 = @{ Parameters = 'Environment', 'Flag', 'Store'; OutputType = 'PMS.Flags.Engine.Flags.FlagState' }
        'Get-FlagAudit'            = @{ Parameters = 'Environment', 'EventType', 'First', 'Flag', 'Ledger', 'Since', 'Until', 'User'; OutputType = 'PMS.Flags.Engine.Ledger.AuditEvent' }
        'Invoke-EmergencyRollback' = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Reason', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Rollbacks.RollbackResult'; Impact = 'High' }
        'Set-FlagPercentage'       = @{ Parameters = 'ApprovalTicket', 'Confirm', 'Environment', 'Flag', 'Force', 'Ledger', 'Percentage', 'Reason', 'Rule', 'Store', 'User', 'WhatIf'; OutputType = 'PMS.Flags.Engine.Flags.FlagChangeRecord'; Impact = 'Medium' }
        'Test-FlagAuditChain'      = @{ Parameters = 'Ledger', 'Path'; OutputType = 'PMS.Flags.Engine.Ledger.ChainVerification' }
    }

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
}

Describe 'Cmdlet <_>' -Tag Surface -ForEach @(
    'Connect-FlagLedger', 'Connect-FlagStore', 'Disable-Flag', 'Enable-Flag', 'Export-FlagAudit', 'Get-Flag', 'Get-FlagAudit',
    'Invoke-EmergencyRollback', 'Set-FlagPercentage', 'Test-FlagAuditChain'
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

    It 'binds Flag (alias Key) and Environment from the pipeline by property name where it has them' {
        foreach ($parameterName in 'Flag', 'Environment') {
            if (-not $command.Parameters.ContainsKey($parameterName)) { continue }
            if ($name -eq 'Connect-FlagStore') { continue }   # a default, not a target
            $parameter = $command.Parameters[$parameterName]
            $parameter.ParameterSets.Values.ValueFromPipelineByPropertyName | Should -Not -Contain $false
            if ($parameterName -eq 'Flag') { $parameter.Aliases | Should -Contain 'Key' }
        }
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

    It 'Export-FlagAudit takes audit events from the pipeline by value and -Format Json or Csv' {
        $parameters = (Get-Command Export-FlagAudit).Parameters
        $parameters['InputObject'].ParameterSets.Values[0].ValueFromPipeline | Should -BeTrue
        $parameters['Format'].Attributes.Where({ $_ -is [System.Management.Automation.ValidateSetAttribute] }).ValidValues | Should -Be @('Json', 'Csv')
    }

    It 'Test-FlagAuditChain has a Ledger set (default) and a Path set' {
        $command = Get-Command Test-FlagAuditChain
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('Ledger', 'Path')
        $command.DefaultParameterSet | Should -Be 'Ledger'
    }
}
