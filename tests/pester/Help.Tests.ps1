#Requires -Version 7.4
# ModuleHelp-style coverage: every exported cmdlet has real (not auto-generated) help, every parameter is described,
# nothing documented is missing from the code, and the examples are PowerShell a user can paste.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $commands = @(Get-Command -Module PMS.Flags -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Help for <Name>' -Tag Help -ForEach $commands {
    BeforeAll {
        $command = Get-Command $Name
        $help = Get-Help $Name -Full
        $parameters = @($command.Parameters.Values | Where-Object Name -NotIn $script:CommonParameters)
        $helpParameters = @($help.parameters.parameter | Where-Object { $_ })
    }

    It 'comes from the module''s MAML file' {
        Split-Path -Leaf $command.HelpFile | Should -Be 'PMS.Flags.Cmdlets.dll-Help.xml'
        Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/PMS.Flags.Cmdlets.dll-Help.xml' | Should -Exist
    }

    It 'has a synopsis that is not the auto-generated syntax' {
        $synopsis = ($help.Synopsis | Out-String).Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Name *"
        $synopsis | Should -Not -Match '\[-\w+\]|<\w+>'
        $syntax = ($help.syntax | Out-String).Trim()
        $synopsis | Should -Not -Be $syntax
    }

    It 'has a description' {
        ($help.description.Text -join ' ').Trim().Length | Should -BeGreaterThan 80
    }

    It 'has at least one example with code and remarks' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) {
            $example.code.Trim() | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'has examples that parse and use only commands that exist' {
        foreach ($example in @($help.examples.example)) {
            $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($example.code, [ref] $null, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $example.code
            $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true) | ForEach-Object {
                $commandName = $_.GetCommandName()
                if ($commandName) { Get-Command $commandName -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because "example uses $commandName" }
            }
        }
        @($help.examples.example | Where-Object { $_.code -match "(^|[\s|(;])$([regex]::Escape($Name))\b" }).Count |
            Should -BeGreaterOrEqual 1 -Because 'at least one example shows the cmdlet it documents'
    }

    It 'describes every parameter' {
        foreach ($parameter in $parameters) {
            $documented = $helpParameters | Where-Object name -EQ $parameter.Name
            $documented | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) must be documented"
            ($documented.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'documents no parameter the cmdlet does not have' {
        foreach ($documented in $helpParameters) {
            $parameters.Name | Should -Contain $documented.name
        }
    }

    It 'agrees with the code on type, mandatory and position' {
        foreach ($parameter in $parameters) {
            $documented = $helpParameters | Where-Object name -EQ $parameter.Name
            $sets = @($parameter.ParameterSets.Values)
            $mandatory = -not ($sets.IsMandatory -contains $false)
            $documented.required | Should -Be $mandatory.ToString().ToLowerInvariant() -Because "-$($parameter.Name) required"
            $documented.type.name | Should -Be $parameter.ParameterType.FullName -Because "-$($parameter.Name) type"
            $position = if ($sets[0].Position -ge 0) { [string]$sets[0].Position } else { 'named' }
            $documented.position | Should -Be $position -Because "-$($parameter.Name) position"
        }
    }
}

Describe 'The MAML file' -Tag Help {
    It 'is well-formed MAML with one command:command per exported cmdlet' {
        $path = Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/PMS.Flags.Cmdlets.dll-Help.xml'
        $xml = [xml](Get-Content -Raw -LiteralPath $path)
        $ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
        $ns.AddNamespace('msh', 'http://msh')
        $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
        $xml.DocumentElement.LocalName | Should -Be 'helpItems'
        $xml.DocumentElement.GetAttribute('schema') | Should -Be 'maml'
        $commands = @($xml.SelectNodes('/msh:helpItems/command:command', $ns))
        @($commands | ForEach-Object { $_.SelectSingleNode('command:details/command:name', $ns).InnerText } | Sort-Object) |
            Should -Be @((Get-Command -Module PMS.Flags -CommandType Cmdlet).Name | Sort-Object)
        foreach ($command in $commands) {
            $name = $command.SelectSingleNode('command:details/command:name', $ns).InnerText
            $command.SelectSingleNode('command:details/command:verb', $ns).InnerText | Should -Be $name.Split('-')[0]
            $command.SelectSingleNode('command:details/command:noun', $ns).InnerText | Should -Be $name.Split('-')[1]
            @($command.SelectNodes('command:syntax/command:syntaxItem', $ns)).Count | Should -Be @((Get-Command $name).ParameterSets).Count -Because $name
            @($command.SelectNodes('command:examples/command:example/dev:code', $ns)).Count | Should -BeGreaterOrEqual 1
            @($command.SelectNodes('command:returnValues/command:returnValue', $ns)).Count | Should -BeGreaterOrEqual 1
        }
    }
}

Describe 'The about topic' -Tag Help {
    It 'is shipped and found by Get-Help' {
        Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/about_PMS.Flags.help.txt' | Should -Exist
        $text = Get-Help about_PMS.Flags | Out-String
        $text | Should -BeLike '*about_PMS.Flags*'
    }

    It 'maps the playbook to every exported cmdlet' {
        $text = Get-Content -Raw (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/about_PMS.Flags.help.txt')
        foreach ($name in (Get-Command -Module PMS.Flags -CommandType Cmdlet).Name) { $text | Should -BeLike "*$name*" }
        foreach ($section in 'Emergency Rollback', 'Progressive Rollout', 'Audit and Compliance') { $text | Should -BeLike "*$section*" }
    }
}

Describe 'Get-Help -Full in a child pwsh' -Tag Help {
    It 'shows the written help for Set-FlagPercentage' {
        $work = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-help-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $work
        try {
            $result = Invoke-ChildPwsh -WorkDirectory $work -ArgumentList $env:PMS_FLAGS_MODULE -Script @'
param($ModulePath)
Import-Module $ModulePath
Get-Help Set-FlagPercentage -Full | Out-String -Width 400
'@
        }
        finally { Remove-Item $work -Recurse -Force }
        $result.ExitCode | Should -Be 0
        $result.Output | Should -BeLike '*Sets the rollout percentage of a feature flag in one environment*'
        $result.Output | Should -BeLike '*Every change is audited first*'
        $result.Output | Should -BeLike '*12.3456 fails with PercentageTooPrecise*'
        $result.Output | Should -BeLike '*Example 1: Start a gradual rollout in staging*'
    }
}
