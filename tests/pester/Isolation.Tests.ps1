#Requires -Version 7.4
# DESIGN §2: the engine and its dependencies load into a private AssemblyLoadContext, so the module works in a session
# that has already loaded another version of one of them.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'Private load context' -Tag Isolation {
    BeforeAll { $sandbox = New-FlagSandbox }
    AfterAll { Remove-FlagSandbox $sandbox }

    It 'loads the engine in its own context, not the default one' {
        $state = @(Get-Flag -Environment staging)[0]
        $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($state.GetType().Assembly)
        $context.Name | Should -Be 'PMS.Flags.Engine'
        $context | Should -Not -Be ([System.Runtime.Loader.AssemblyLoadContext]::Default)
        $state.GetType().Assembly.Location | Should -Be (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'dependencies/PMS.Flags.Engine.dll')
    }

    It 'keeps the cmdlet assembly in the default context' {
        $cmdlets = (Get-Command Get-Flag).ImplementingType.Assembly
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($cmdlets) | Should -Be ([System.Runtime.Loader.AssemblyLoadContext]::Default)
    }

    It 'loads no shipped dependency into the default context' {
        $null = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 5 -Reason 'load Polly'   # takes the file lock through Polly
        $shipped = (Get-ChildItem (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'dependencies') -Filter '*.dll').BaseName
        $shipped | Should -Contain 'Polly.Core'
        $inDefault = @([System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -in $shipped })
        $inDefault | Should -BeNullOrEmpty
        $engineContext = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'PMS.Flags.Engine'
        @($engineContext.Assemblies.GetName().Name) | Should -Contain 'Polly.Core'
    }
}

Describe 'A session that already loaded another Polly.Core' -Tag Isolation {
    BeforeAll { $sandbox = New-FlagSandbox -NoConnect }
    AfterAll { Remove-FlagSandbox $sandbox }

    It 'imports the module and changes a flag with its own Polly.Core 8.6 beside the session''s 8.1.0' {
        $polly810 = Join-Path $env:PMS_FLAGS_REPO '.tools/packages/polly.core/8.1.0/lib/net6.0/Polly.Core.dll'
        $polly810 | Should -Exist -Because 'build.ps1 Bootstrap restores Polly.Core 8.1.0 (build/tools.csproj)'
        $result = Invoke-ChildPwsh -WorkDirectory $sandbox.Root -ArgumentList $env:PMS_FLAGS_MODULE, $polly810, $sandbox.FlagFile, $sandbox.LedgerPath -Script @'
param($ModulePath, $PollyPath, $FlagFile, $LedgerPath)
$ErrorActionPreference = 'Stop'
$env:PMS_FLAGS_STATE_DIR = Join-Path (Split-Path $FlagFile) 'state'
function Describe-Assembly($assembly) {
    [ordered]@{
        Version     = $assembly.GetName().Version.ToString()
        FileVersion = [Diagnostics.FileVersionInfo]::GetVersionInfo($assembly.Location).ProductVersion
        Context     = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name
        Location    = $assembly.Location
    }
}

# Another module got there first with an older Polly.Core (same assembly version 8.0.0.0, older file).
Add-Type -Path $PollyPath
$sessionPolly = [Polly.ResiliencePipeline].Assembly
$before = Describe-Assembly $sessionPolly

Import-Module $ModulePath
$null = Connect-FlagStore -Path $FlagFile
$null = Connect-FlagLedger -Path $LedgerPath 3>$null
$record = Set-FlagPercentage -Flag new_scheduler -Environment staging -Percentage 42 -Reason 'isolation'   # the file locks go through Polly
$engineContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($record.GetType().Assembly)
$enginePolly = $engineContext.Assemblies | Where-Object { $_.GetName().Name -eq 'Polly.Core' }

[ordered]@{
    SessionPollyBefore = $before
    SessionPollyAfter  = Describe-Assembly ([Polly.ResiliencePipeline].Assembly)
    EngineContext      = $engineContext.Name
    EnginePolly        = if ($enginePolly) { Describe-Assembly $enginePolly } else { $null }
    PollyInDefault     = @([System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -eq 'Polly.Core' }).Count
    Percentage         = $record.Percentage
    AuditSequence      = $record.AuditSequence
} | ConvertTo-Json -Depth 4
'@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $report = $result.Output | ConvertFrom-Json

        $report.SessionPollyBefore.FileVersion | Should -BeLike '8.1.0*'
        $report.SessionPollyBefore.Context | Should -Be 'Default'
        $report.SessionPollyAfter.FileVersion | Should -BeLike '8.1.0*'   # the session's copy is untouched
        $report.PollyInDefault | Should -Be 1

        $shipped = [Diagnostics.FileVersionInfo]::GetVersionInfo((Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'dependencies/Polly.Core.dll')).ProductVersion
        $shipped | Should -BeLike '8.6.*'
        $report.EngineContext | Should -Be 'PMS.Flags.Engine'
        $report.EnginePolly | Should -Not -BeNullOrEmpty
        $report.EnginePolly.FileVersion | Should -Be $shipped
        $report.EnginePolly.Context | Should -Be 'PMS.Flags.Engine'
        $report.EnginePolly.Location | Should -Be (Join-Path (Split-Path $env:PMS_FLAGS_MODULE) 'dependencies/Polly.Core.dll')
        # Both copies call themselves 8.0.0.0: without the private context the default one would silently win.
        $report.EnginePolly.Version | Should -Be $report.SessionPollyBefore.Version

        $report.Percentage | Should -Be 42
        $report.AuditSequence | Should -Be 1
        (Read-FlagDocument $sandbox.FlagFile).staging.new_scheduler.rollout_percentage | Should -Be 42
        (Test-FlagAuditChain -Path $sandbox.LedgerPath).Count | Should -Be 1
    }
}
