<#
.SYNOPSIS
    Builds, tests and demonstrates PMS.Flags. One task per call:
      Bootstrap  restore the PowerShell test modules (Pester) and install the system tools the tests use
      Build      publish the module into out/PMS.Flags (engine and third-party dlls under dependencies/)
      Test       Build, then xunit and Pester (Pester in a child pwsh against the BUILT module);
                 ends with "Tests: N passed, N failed" and exits non-zero on any failure
      Demo       Build, then run examples/local-rollout.ps1 in a fresh pwsh
      Bench      Build, then run tests/bench and print the figures
      Package    Build, then zip out/PMS.Flags
      Clean      remove out/, .tools/ and every bin/ and obj/
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
param(
    [Parameter(Position = 0)]
    [ValidateSet('Bootstrap', 'Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string] $Task = 'Build',

    # Pester tag filter for a quicker inner loop, e.g. -Tag LocalStore.
    [string[]] $Tag,

    [switch] $SkipXunit
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$env:NO_COLOR = '1'
$PSStyle.OutputRendering = 'PlainText'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'PMS.Flags'
$ResultsDir = Join-Path $Out 'test-results'
# The child pwsh is the same pwsh.dll that runs this script, so tests use exactly the pinned 7.6.9.
$PwshDll = Join-Path $PSHOME 'pwsh.dll'

# Every dll the module ships besides its root; the build fails if one is missing or an unexpected one appears,
# so a new dependency is a deliberate decision. Newtonsoft.Json is left out: pwsh has already loaded 13.0.x.
$Dependencies = @(
    'PMS.Flags.Engine.dll'
    'Polly.Core.dll'
    # Npgsql and its two abstractions: loaded only when a database cmdlet first runs.
    'Npgsql.dll'
    'Microsoft.Extensions.Logging.Abstractions.dll'
    'Microsoft.Extensions.DependencyInjection.Abstractions.dll'
)
$NotShipped = @('Newtonsoft.Json.dll', 'System.Management.Automation.dll')
# Npgsql's net8.0 build asks for System.Diagnostics.DiagnosticSource 9.0; the .NET 10 runtime's own copy serves it.
$NotShipped += 'System.Diagnostics.DiagnosticSource.dll'

function Invoke-Native([scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE) { throw "Command failed with exit code ${LASTEXITCODE}: $Command" }
}

function Invoke-Bootstrap {
    Write-Host '== Bootstrap: Pester and test tools'
    Invoke-Native { dotnet restore (Join-Path $Root 'build/tools.csproj') --packages (Join-Path $Root '.tools/packages') -v q }
    foreach ($script in Get-ChildItem (Join-Path $Root 'build/bootstrap') -Filter '*.sh' -ErrorAction SilentlyContinue | Sort-Object Name) {
        Invoke-Native { bash $script.FullName }
    }
}

function Invoke-Build {
    Write-Host '== Build'
    $publish = Join-Path $Out 'publish'
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Native { dotnet publish (Join-Path $Root 'src/PMS.Flags.Cmdlets/PMS.Flags.Cmdlets.csproj') -c Release -o $publish -v q --nologo }

    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    $dependencyDir = New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'dependencies')
    Copy-Item (Join-Path $publish 'PMS.Flags.Cmdlets.dll'), (Join-Path $publish 'PMS.Flags.Cmdlets.pdb') $ModuleOut
    Copy-Item (Join-Path $Root 'PMS.Flags.psd1') $ModuleOut
    Copy-Item (Join-Path $Root 'module/*.ps1xml') $ModuleOut
    foreach ($dll in $Dependencies) {
        $source = Join-Path $publish $dll
        if (-not (Test-Path $source)) { throw "Dependency '$dll' is missing from the publish output." }
        Copy-Item $source $dependencyDir
        $pdb = [IO.Path]::ChangeExtension($source, '.pdb')
        if (Test-Path $pdb) { Copy-Item $pdb $dependencyDir }
    }
    $unexpected = Get-ChildItem $publish -Filter '*.dll' | Where-Object { $_.Name -ne 'PMS.Flags.Cmdlets.dll' -and $_.Name -notin $Dependencies -and $_.Name -notin $NotShipped }
    if ($unexpected) { throw "Unlisted dll(s) in the publish output: $($unexpected.Name -join ', '). Add them to `$Dependencies in build.ps1 deliberately." }

    $helpSource = Join-Path $Root 'module/help'
    if (Test-Path $helpSource) {
        $helpOut = New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'en-US')
        # Reads parameter metadata from the just-built module in a child pwsh, so this session never loads its dlls.
        & (Join-Path $Root 'build/New-MamlHelp.ps1') -SourceDirectory $helpSource -OutputPath (Join-Path $helpOut 'PMS.Flags.Cmdlets.dll-Help.xml') -ModulePath (Join-Path $ModuleOut 'PMS.Flags.psd1')
        Copy-Item (Join-Path $helpSource 'about_*.help.txt') $helpOut -ErrorAction SilentlyContinue
    }
    Write-Host "Module built in $ModuleOut"
}

function Get-XunitCounts([string] $TrxPath) {
    if (-not (Test-Path $TrxPath)) { return $null }
    $counters = ([xml](Get-Content -Raw $TrxPath)).TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted }
}

function Invoke-Test {
    Invoke-Bootstrap
    Invoke-Build
    if (Test-Path $ResultsDir) { Remove-Item $ResultsDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Force $ResultsDir
    $passed = 0; $failed = 0

    if (-not $SkipXunit) {
        Write-Host '== xunit'
        dotnet test (Join-Path $Root 'PMS.FlagCmdlets.sln') -c Release --nologo -v q --logger 'trx;LogFilePrefix=xunit' --logger 'console;verbosity=normal' --results-directory $ResultsDir
        $xunitExit = $LASTEXITCODE
        $trx = Get-ChildItem $ResultsDir -Filter 'xunit*.trx' -ErrorAction SilentlyContinue
        $anyCounts = $false
        foreach ($file in $trx) {
            $counts = Get-XunitCounts $file.FullName
            if ($counts) { $passed += $counts.Passed; $failed += $counts.Failed; $anyCounts = $true }
        }
        if ($xunitExit -and ($failed -eq 0)) { $failed += 1; Write-Host "xunit exited with $xunitExit without a failed test: counted as one failure." }
        if (-not $anyCounts -and -not $xunitExit) { $failed += 1; Write-Host 'xunit produced no results: counted as one failure.' }
    }

    Write-Host '== Test servers (stand-ins for LaunchDarkly and the PMS backend)'
    Build-TestServers

    Write-Host '== Pester (child pwsh, built module)'
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    $pesterArgs = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/pester/Invoke-PesterSuite.ps1'), '-ModuleDirectory', $ModuleOut, '-SummaryPath', $summary)
    if ($Tag) { $pesterArgs += @('-Tag', ($Tag -join ',')) }
    dotnet $PwshDll @pesterArgs
    $pesterExit = $LASTEXITCODE
    if (Test-Path $summary) {
        $pester = Get-Content -Raw $summary | ConvertFrom-Json
        $passed += [int]$pester.Passed; $failed += [int]$pester.Failed
        if ($pesterExit -and -not $pester.Failed) { $failed += 1; Write-Host "Pester exited with $pesterExit without a failed test: counted as one failure." }
    }
    else {
        $failed += 1; Write-Host "Pester produced no summary (exit $pesterExit): counted as one failure."
    }

    Write-Host "Tests: $passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Build-TestServers
    Write-Host '== Demo (fresh pwsh, built module)'
    $demoDir = Join-Path $Out 'demo'
    if (Test-Path $demoDir) { Remove-Item $demoDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Force $demoDir
    $modulePath = Join-Path $ModuleOut 'PMS.Flags.psd1'
    Invoke-Native { dotnet $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'examples/local-rollout.ps1') -ModulePath $modulePath -WorkDirectory $demoDir }

    # The progressive rollout needs a backend whose health and metrics follow the flag: the stand-in, and Prometheus
    # scraping it when Prometheus is installed (build.ps1 Bootstrap installs it as root).
    $flagFile = Join-Path $demoDir 'rollout_flags.json'
    '{ "production": { "telehealth_appointments_enabled": false, "new_billing_engine": false } }' | Set-Content $flagFile
    . (Join-Path $Root 'tests/pester/Servers.ps1')
    $backend = Start-BackendStandIn -FlagFile $flagFile -Flag new_billing_engine -Environment production
    $prometheus = $null
    try {
        $arguments = @('-ModulePath', $modulePath, '-WorkDirectory', $demoDir, '-BackendUri', $backend.BaseUri, '-FlagFile', $flagFile)
        if (Get-Command prometheus -ErrorAction SilentlyContinue) {
            $prometheus = Start-TestPrometheus -Directory $demoDir -TargetUri $backend.BaseUri
            $null = Wait-PrometheusValue $prometheus.BaseUri 'sum(rate(http_requests_total[10s]))' { param($v) $v[0] -gt 0 }
            $arguments += @('-PrometheusUri', $prometheus.BaseUri)
        }
        else { Write-Host 'Prometheus is not installed: the demo guards the rollout with the health endpoint only.' }
        Invoke-Native { dotnet $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'examples/progressive-rollout.ps1') @arguments }
    }
    finally {
        Stop-TestPrometheus $prometheus
        Stop-StandIn $backend
    }
}

function Build-TestServers {
    Invoke-Native { dotnet build (Join-Path $Root 'tests/PMS.Flags.TestServers/PMS.Flags.TestServers.csproj') -c Release -v q --nologo }
    $env:PMS_FLAGS_TESTSERVERS = Join-Path $Root 'tests/PMS.Flags.TestServers/bin/Release/net10.0/PMS.Flags.TestServers.dll'
}

function Invoke-Bench {
    Invoke-Build
    Build-TestServers
    Write-Host '== Bench'
    foreach ($bench in Get-ChildItem (Join-Path $Root 'tests/bench') -Filter '*.Bench.ps1' | Sort-Object Name) {
        Write-Host "-- $($bench.Name)"
        Invoke-Native { dotnet $PwshDll -NoProfile -NonInteractive -File $bench.FullName -ModulePath (Join-Path $ModuleOut 'PMS.Flags.psd1') -PwshDll $PwshDll }
    }
}

function Invoke-Package {
    Invoke-Build
    $version = (Import-PowerShellDataFile (Join-Path $Root 'PMS.Flags.psd1')).ModuleVersion
    $zip = Join-Path $Out "PMS.Flags-$version.zip"
    Compress-Archive -Path $ModuleOut -DestinationPath $zip -Force
    Write-Host "Packaged $zip"
}

function Invoke-Clean {
    foreach ($dir in @($Out, (Join-Path $Root '.tools'))) { if (Test-Path $dir) { Remove-Item $dir -Recurse -Force } }
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
}

switch ($Task) {
    'Bootstrap' { Invoke-Bootstrap }
    'Build' { Invoke-Build }
    'Test' {
        # Whatever breaks (a build error, a missing tool), CI still gets its one closing line and a failing exit code.
        try { Invoke-Test }
        catch {
            Write-Host "Test task failed before the tests completed: $_"
            Write-Host 'Tests: 0 passed, 1 failed'
            exit 1
        }
    }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Clean' { Invoke-Clean }
}
