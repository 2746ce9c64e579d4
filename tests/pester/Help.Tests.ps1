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

    It 'documents its outputs in words' {
        @($help.returnValues.returnValue).Count | Should -BeGreaterOrEqual 1
        foreach ($output in @($help.returnValues.returnValue)) {
            ($output.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$Name returns $($output.type.name)"
        }
    }

    It 'has a description' {
        ($help.description.Text -join ' ').Trim().Length | Should -BeGreaterThan 80
    }

    It 'has at least two examples, each with code and remarks' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
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

    # The build already refuses a parameter without a description and a description of a parameter that does not exist;
    # what it cannot judge is whether the words say anything.
    It 'describes every parameter in words that say more than its name' {
        $filler = 'a', 'an', 'the', 'of', 'to', 'for', 'in', 'on', 'is', 'and', 'or', 'this', 'that', 'which', 'with', 'by', 'be', 'it', 'its', 'as', 'from', 'name', 'value', 'parameter', 'specifies'
        foreach ($parameter in $parameters) {
            $text = (@($helpParameters | Where-Object name -EQ $parameter.Name)[0].description.Text -join ' ').Trim()
            $nameWords = @([regex]::Matches($parameter.Name, '[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+').Value | ForEach-Object { $_.ToLowerInvariant() })
            $said = @([regex]::Matches($text.ToLowerInvariant(), '[a-z0-9]+').Value | Where-Object { $_ -notin $filler -and $_ -notin $nameWords -and $_.TrimEnd('s') -notin $nameWords })
            @($said | Select-Object -Unique).Count | Should -BeGreaterOrEqual 3 -Because "-$($parameter.Name) is described as '$text', which says little more than its name"
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
    }
}

Describe 'The about topics' -Tag Help {
    It '<_> is shipped and found by Get-Help' -ForEach 'about_PMS.Flags', 'about_PMS.Flags_Rollouts', 'about_PMS.Flags_Audit', 'about_PMS.Flags_Errors' {
        Join-Path (Split-Path $env:PMS_FLAGS_MODULE) "en-US/$_.help.txt" | Should -Exist
        (Get-Help $_ | Out-String) | Should -BeLike "*$_*"
    }

    It 'about_PMS.Flags_Rollouts documents every item of the playbook checklist and the gate''s ErrorId' {
        $text = Get-Content -Raw (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'en-US/about_PMS.Flags_Rollouts.help.txt')
        $items = 'configuration-reviewed', 'migrations-tested', 'rollback-tested-in-staging', 'staging-validated', 'performance-assessed',
        'security-review', 'hipaa-compliance', 'alerts-configured', 'rollback-plan-approved', 'notifications-prepared', 'maintenance-window',
        'backup-verified', 'feature-docs-updated', 'api-docs-updated', 'training-materials-prepared', 'support-briefed'
        foreach ($item in $items) { $text | Should -BeLike "*$item*" }
        $text | Should -BeLike '*FlagNotReady*'
        $text | Should -BeLike '*OverrideReadiness*'
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

# The first example of every cmdlet is RUN, as a user would paste it: in a fresh pwsh, in a folder laid out like the
# repository (./apps/backend/config/feature_flags.json, ./out/PMS.Flags), against a real Prometheus scraping the backend
# stand-in where the example names a Prometheus. A per-cmdlet setup puts in place what the example acts on (an active
# or paused rollout).
Describe 'The first example of each cmdlet' -Tag Help {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Servers.ps1')
        if (-not $env:PMS_FLAGS_TESTSERVERS) { throw 'PMS_FLAGS_TESTSERVERS is not set: run the suite through build.ps1 Test, which builds the stand-ins.' }
        $script:Saved = Save-PmsEnvironment
        $script:ServerRoot = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-examples-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $script:ServerRoot
        $backendFlags = Join-Path $script:ServerRoot 'backend_flags.json'
        '{ "production": { "telehealth_appointments_enabled": true } }' | Set-Content $backendFlags
        $script:Backend = Start-BackendStandIn -FlagFile $backendFlags -Flag telehealth_appointments_enabled -Environment production
        $script:Prometheus = Start-TestPrometheus -Directory $script:ServerRoot -TargetUri $script:Backend.BaseUri
        $null = Wait-PrometheusValue $script:Prometheus.BaseUri 'sum(rate(http_requests_total[5m]))' { param($v) $v[0] -gt 0 }

        # The deployment cmdlets' examples run against the Kubernetes stand-in through a kubeconfig in KUBECONFIG, as on
        # an operator's machine; the examples' https://api.pms.example.com is the stand-in's proxy to the backend service.
        . (Join-Path $PSScriptRoot 'KubernetesHelpers.ps1')
        $script:SavedExampleEnvironment = @{}
        foreach ($name in 'KUBECONFIG', 'DATABASE_URL', 'PMS_API_TOKEN') { $script:SavedExampleEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }
        $script:K8s = Start-KubernetesStandIn -Replicas 2 -PodReadySeconds 0.2
        $env:KUBECONFIG = New-StandInKubeConfig -Server $script:K8s -Path (Join-Path $script:ServerRoot 'kubeconfig')
        $env:PMS_API_TOKEN = $script:BackendToken
        $script:BackendServiceUri = "$($script:K8s.BaseUri)/svc/pms/pms-backend"

        # The database cmdlets' examples run against a real PostgreSQL (a throwaway cluster, stopped by Invoke-PesterSuite)
        # through DATABASE_URL; the migration examples' alembic project is the fixture, copied where the example names it.
        $script:Database = New-TestDatabase 'examples'
        $script:DatabaseUrl = "postgresql://$($script:Database.User):$([uri]::EscapeDataString($script:Database.Password))@$($script:Database.Host):$($script:Database.Port)/$($script:Database.Name)"
        $env:DATABASE_URL = $script:DatabaseUrl

        $activeRollout = "`$null = Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 25 -BakeTime 01:00:00 -Reason 'example setup' -ApprovalTicket TICKET-1 -NoWait"
        $script:Setup = @{
            'Resume-FlagRollout'  = "$activeRollout; `$null = Suspend-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason 'example setup' -ApprovalTicket TICKET-1"
            'Step-FlagRollout'    = $activeRollout
            'Stop-FlagRollout'    = $activeRollout
            'Suspend-FlagRollout' = $activeRollout
            'Get-FlagRollout'     = $activeRollout
            'New-FlagAuditCheckpoint' = "`$null = New-Item -ItemType Directory keys; openssl ecparam -name prime256v1 -genkey -noout -out ./keys/audit-signing.pem 2>`$null; `$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'example setup'"
            'Repair-FlagLedger'   = "`$null = Connect-FlagLedger -Path ./audit/feature-flags.jsonl 3>`$null; `$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'example setup'; [IO.File]::AppendAllText((Resolve-Path ./audit/feature-flags.jsonl), '{`"timestamp`":`"2025')"
            'Test-FlagAuditChain' = "`$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'example setup'"
            'Copy-FlagAudit'      = "`$null = Connect-FlagLedger -Path ./audit/feature-flags.jsonl 3>`$null; `$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'example setup'"
            'Save-FlagAuditArchive' = "`$null = Connect-FlagLedger -Path ./audit/feature-flags.jsonl 3>`$null; `$null = Set-FlagPercentage -Flag telehealth_appointments_enabled -Environment staging -Percentage 5 -Reason 'example setup'"
            # A release to roll back from: the restart makes a new revision, so the undo always has a previous one.
            'Undo-PmsDeployment'  = "`$null = Restart-PmsDeployment -Namespace pms -Deployment pms-backend -Wait -Reason 'example setup' -Confirm:`$false"
            # The database at head, so "downgrade -1" crosses the Reversible 0005.
            'Invoke-PlannedRollback' = "if (-not (Get-PmsMigration -ScriptLocation ./apps/backend/alembic.ini).IsAtHead) { `$null = Invoke-PmsMigration -Upgrade head -ScriptLocation ./apps/backend/alembic.ini -Reason 'example setup' }"
        }
        $script:Runner = @'
param($Work, $Setup, $ExampleFile)
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $Work
Import-Module ./out/PMS.Flags/PMS.Flags.psd1
$null = Connect-FlagStore -Path ./apps/backend/config/feature_flags.json
if ($Setup) { $null = & ([scriptblock]::Create($Setup)) }
$Error.Clear()
. $ExampleFile
"EXAMPLE ERRORS: $($Error.Count)"
'@
    }

    AfterAll {
        Stop-TestPrometheus $script:Prometheus
        Stop-KubernetesStandIn $script:K8s
        Remove-TestDatabase $script:Database
        foreach ($name in $script:SavedExampleEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $script:SavedExampleEnvironment[$name]) }
        Stop-StandIn $script:Backend
        Restore-PmsEnvironment $script:Saved
        if ($script:ServerRoot -and (Test-Path -LiteralPath $script:ServerRoot)) { Remove-Item -LiteralPath $script:ServerRoot -Recurse -Force }
    }

    It 'runs for <Name>' -ForEach $commands {
        $work = Join-Path $script:ServerRoot $Name
        $null = New-Item -ItemType Directory -Force (Join-Path $work 'apps/backend/config'), (Join-Path $work 'out'), (Join-Path $work 'audit')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $work 'out/PMS.Flags') -Target (Split-Path $env:PMS_FLAGS_MODULE)
        Set-Content -LiteralPath (Join-Path $work 'apps/backend/config/feature_flags.json') -Value $script:SampleDocument
        $env:PMS_FLAGS_STATE_DIR = Join-Path $work 'state'
        # As on an operator's machine, a ledger is chosen: a production change without one is LedgerNotConfigured.
        $env:PMS_FLAGS_LEDGER = Join-Path $work 'audit/ledger.jsonl'
        $env:XDG_STATE_HOME = $null

        $code = @((Get-Help $Name -Full).examples.example)[0].code
        $code = $code.Replace('http://prometheus.monitoring:9090', $script:Prometheus.BaseUri)
        $code = $code.Replace('https://api.pms.example.com', $script:BackendServiceUri)
        $code = $code.Replace('postgresql://pms@db.internal:5432/pms', $script:DatabaseUrl)
        if ($code -match '\./apps/backend/alembic\.ini') { Copy-Item -Recurse -Path (Join-Path $env:PMS_FLAGS_REPO 'tests/fixtures/alembic-project/*') -Destination (Join-Path $work 'apps/backend') }
        $exampleFile = Join-Path $work 'example.ps1'
        Set-Content -LiteralPath $exampleFile -Value $code
        $setup = if ($script:Setup.ContainsKey($Name)) { $script:Setup[$Name] } else { '' }

        $run = Invoke-ChildPwsh -WorkDirectory $work -Script $script:Runner -ArgumentList $work, $setup, $exampleFile

        $run.ExitCode | Should -Be 0 -Because "the example`n$code`nprinted`n$($run.Output)"
        $run.Output | Should -Match '(?m)^EXAMPLE ERRORS: 0\s*$' -Because $run.Output
    }
}
