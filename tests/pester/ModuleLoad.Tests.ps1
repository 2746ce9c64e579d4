#Requires -Version 7.4
# Issue 9: the module-load trap. PowerShell scans the cmdlet assembly's types when it imports it; if the engine's
# resolver were hooked only then (in the cmdlet assembly's own initializer), a cmdlet type that implements an engine
# interface or takes an engine enum would fail to load. The loader nested module hooks it first. These tests run in a
# fresh pwsh, so nothing this session loaded can hide the trap; the last one removes the loader from a copy of the
# module and shows what it prevents.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-load-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $script:Work
    $script:Probe = @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$cmdlets = (Get-Command Get-Flag).ImplementingType.Assembly
"EXPORTED=$(@(Get-Command -Module PMS.Flags -CommandType Cmdlet).Count)"
"INTERFACES=$($cmdlets.GetType('PMS.Flags.Cmdlets.Infrastructure.PipelineLog', $true).GetInterfaces().FullName -join ',')"
$severity = (Get-Command New-FlagGuardrail).Parameters['Severity'].ParameterType
"SEVERITY=$($severity.FullName)@$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($severity.Assembly).Name)"
"NODATA=$((Get-Command New-FlagGuardrail).Parameters['NoData'].ParameterType.FullName)"
$g = New-FlagGuardrail -HealthUrl 'http://127.0.0.1:9/health' -Severity warning -NoData pass
"GUARDRAIL=$($g.Severity)/$($g.NoData)"
try { $null = New-FlagGuardrail -HealthUrl 'http://127.0.0.1:9/health' -Severity Bogus; 'BOGUS=accepted' } catch { "BOGUS=refused" }
'@
}

AfterAll {
    if (Test-Path -LiteralPath $script:Work) { Remove-Item -LiteralPath $script:Work -Recurse -Force }
}

Describe 'Module load: the engine resolves before PowerShell scans the cmdlets' -Tag ModuleLoad, Isolation {
    It 'imports in a fresh pwsh with a cmdlet type implementing an engine interface and engine enums as parameters' {
        $manifest = Import-PowerShellDataFile $env:PMS_FLAGS_MODULE
        $manifest.NestedModules | Should -Be @('PMS.Flags.Loader.dll')
        $run = Invoke-ChildPwsh -WorkDirectory $script:Work -Script $script:Probe -ArgumentList $env:PMS_FLAGS_MODULE
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match "(?m)^EXPORTED=$($manifest.CmdletsToExport.Count)\s*$"
        $run.Output | Should -Match '(?m)^INTERFACES=PMS\.Flags\.Engine\.Common\.IOperationLog\s*$'
        $run.Output | Should -Match '(?m)^SEVERITY=PMS\.Flags\.Engine\.Guardrails\.GuardrailSeverity@PMS\.Flags\.Engine\s*$'
        $run.Output | Should -Match '(?m)^NODATA=PMS\.Flags\.Engine\.Guardrails\.NoDataPolicy\s*$'
        $run.Output | Should -Match '(?m)^GUARDRAIL=Warning/Pass\s*$' -Because 'the names are accepted as before, in any case'
        $run.Output | Should -Match '(?m)^BOGUS=refused\s*$'
    }

    It 'without the loader nested module, the same import fails: the trap is real and the loader is what removes it' {
        $copy = Join-Path $script:Work 'no-loader/PMS.Flags'
        $null = New-Item -ItemType Directory -Force (Split-Path $copy)
        Copy-Item -Recurse (Split-Path $env:PMS_FLAGS_MODULE) $copy
        $psd1 = Join-Path $copy 'PMS.Flags.psd1'
        (Get-Content -Raw $psd1) -replace "(?m)^\s*NestedModules\s*=.*$", '' | Set-Content $psd1
        $run = Invoke-ChildPwsh -WorkDirectory $script:Work -Script $script:Probe -ArgumentList $psd1
        $run.ExitCode | Should -Not -Be 0 -Because "without the loader the engine cannot resolve during the scan:`n$($run.Output)"
    }
}
