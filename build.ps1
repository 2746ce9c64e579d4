<#
.SYNOPSIS
    Builds, tests and demonstrates PMS.Flags. One task per call:
      Bootstrap  restore the PowerShell test modules (Pester) and install the system tools the tests use
      Build      publish the module into out/PMS.Flags (engine and third-party dlls under dependencies/)
      Test       Build, then xunit and Pester (Pester in a child pwsh against the BUILT module);
                 its LAST line is "Tests: N passed, N failed, N skipped" and it exits non-zero on any failure.
                 Skipped counts every discovered test that did not run (skipped, not run, inconclusive); each is
                 named in the log. The task also fails (one counted failure per rule broken, reason printed) when
                 xunit or Pester ran no test, ran fewer tests than it discovered, had a skipped/inconclusive test,
                 or when a full run's total falls below the floor in tests/test-floor.txt.
                 Partial runs: -Tag (Pester filtered) and -SkipXunit (xunit not run) are for the inner loop. They
                 print "PARTIAL run" before the closing line, count the tests the filter left out as skipped, are
                 never checked against the floor and never pass for a full run; they still fail when nothing ran.
                 The floor is raised by hand in the same commit that adds tests; the task says when the total has
                 outgrown it. It is never lowered silently: a lower total fails until the floor file is edited.
      Demo       Build, then run examples/local-rollout.ps1 in a fresh pwsh
      Bench      Build, then run tests/bench and print the figures
      Package    Build, then out/PMS.Flags.<version>.nupkg through Publish-PSResource to a local folder repository
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
    # KubernetesClient and what it brings; loaded only when a Kubernetes cmdlet or the ConfigMap store is first used.
    'KubernetesClient.dll'
    'Fractions.dll'
    'YamlDotNet.dll'
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
    Copy-Item (Join-Path $publish 'PMS.Flags.Loader.dll'), (Join-Path $publish 'PMS.Flags.Loader.pdb') $ModuleOut
    Copy-Item (Join-Path $Root 'PMS.Flags.psd1') $ModuleOut
    Copy-Item (Join-Path $Root 'module/*.ps1xml') $ModuleOut
    foreach ($dll in $Dependencies) {
        $source = Join-Path $publish $dll
        if (-not (Test-Path $source)) { throw "Dependency '$dll' is missing from the publish output." }
        Copy-Item $source $dependencyDir
        $pdb = [IO.Path]::ChangeExtension($source, '.pdb')
        if (Test-Path $pdb) { Copy-Item $pdb $dependencyDir }
    }
    $unexpected = Get-ChildItem $publish -Filter '*.dll' | Where-Object { $_.Name -notin 'PMS.Flags.Cmdlets.dll', 'PMS.Flags.Loader.dll' -and $_.Name -notin $Dependencies -and $_.Name -notin $NotShipped }
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
    $run = ([xml](Get-Content -Raw $TrxPath)).TestRun
    $counters = $run.ResultSummary.Counters
    # Whatever was discovered but did not end as passed or failed (NotExecuted = skipped, Inconclusive, ...).
    $notRun = @($run.Results.UnitTestResult | Where-Object { $_ -and $_.outcome -notin 'Passed', 'Failed', 'Error', 'Timeout', 'Aborted' } |
        ForEach-Object { "$($_.testName) [$($_.outcome)]" })
    [pscustomobject]@{
        Discovered = [int]$counters.total
        Executed   = [int]$counters.executed
        Passed     = [int]$counters.passed
        Failed     = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        NotRun     = $notRun
    }
}

function Invoke-Test {
    Invoke-Bootstrap
    Invoke-Build
    if (Test-Path $ResultsDir) { Remove-Item $ResultsDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Force $ResultsDir
    $passed = 0; $failed = 0; $skipped = 0
    $problems = [System.Collections.Generic.List[string]]::new()
    $partial = [System.Collections.Generic.List[string]]::new()

    if ($SkipXunit) { $partial.Add('xunit not run (-SkipXunit)') }
    else {
        Write-Host '== xunit'
        dotnet test (Join-Path $Root 'PMS.FlagCmdlets.sln') -c Release --nologo -v q --logger 'trx;LogFilePrefix=xunit' --logger 'console;verbosity=normal' --results-directory $ResultsDir
        $xunitExit = $LASTEXITCODE
        $trx = @(Get-ChildItem $ResultsDir -Filter 'xunit*.trx' -ErrorAction SilentlyContinue)
        $x = [pscustomobject]@{ Discovered = 0; Executed = 0; Passed = 0; Failed = 0; NotRun = @() }
        foreach ($file in $trx) {
            $counts = Get-XunitCounts $file.FullName
            if ($counts) {
                $x.Discovered += $counts.Discovered; $x.Executed += $counts.Executed; $x.Passed += $counts.Passed; $x.Failed += $counts.Failed
                $x.NotRun += $counts.NotRun
            }
        }
        $passed += $x.Passed; $failed += $x.Failed
        $xunitSkipped = [Math]::Max($x.Discovered - $x.Passed - $x.Failed, $x.NotRun.Count)
        $skipped += $xunitSkipped
        Write-Host "xunit: discovered $($x.Discovered), ran $($x.Passed + $x.Failed), passed $($x.Passed), failed $($x.Failed), skipped/not run $xunitSkipped"
        foreach ($name in $x.NotRun) { Write-Host "  xunit did not run: $name" }
        if ($x.Passed + $x.Failed -eq 0) { $problems.Add('xunit ran no test') }
        elseif ($xunitSkipped -gt 0) { $problems.Add("xunit ran $($x.Passed + $x.Failed) of the $($x.Discovered) tests it discovered") }
        if ($xunitExit -and ($x.Failed -eq 0)) { $problems.Add("xunit exited with $xunitExit without a failed test") }
    }

    Write-Host '== Test servers (stand-ins for LaunchDarkly and the PMS backend)'
    Build-TestServers

    Write-Host '== Pester (child pwsh, built module)'
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    $pesterArgs = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/pester/Invoke-PesterSuite.ps1'), '-ModuleDirectory', $ModuleOut, '-SummaryPath', $summary)
    if ($Tag) { $pesterArgs += @('-Tag', ($Tag -join ',')); $partial.Add("Pester filtered by -Tag $($Tag -join ',')") }
    dotnet $PwshDll @pesterArgs
    $pesterExit = $LASTEXITCODE
    if (Test-Path $summary) {
        $pester = Get-Content -Raw $summary | ConvertFrom-Json
        $passed += [int]$pester.Passed; $failed += [int]$pester.Failed
        $pesterRan = [int]$pester.Passed + [int]$pester.TestsFailed
        $pesterSkipped = [int]$pester.Skipped + [int]$pester.Inconclusive + [int]$pester.NotRun
        $skipped += $pesterSkipped
        Write-Host "Pester: discovered $($pester.Discovered), ran $pesterRan, passed $($pester.Passed), failed $($pester.Failed), skipped $($pester.Skipped), inconclusive $($pester.Inconclusive), not run $($pester.NotRun)"
        foreach ($name in @($pester.SkippedNames) + @($pester.InconclusiveNames)) { if ($name) { Write-Host "  Pester did not run: $name" } }
        if (-not $Tag) { foreach ($name in @($pester.NotRunNames)) { if ($name) { Write-Host "  Pester did not run: $name [NotRun]" } } }
        else { Write-Host "  Pester: $($pester.NotRun) test(s) left out by -Tag (counted as skipped)" }
        if ($pesterRan -eq 0) { $problems.Add('Pester ran no test') }
        if ([int]$pester.Skipped + [int]$pester.Inconclusive -gt 0) { $problems.Add("Pester skipped $($pester.Skipped) and found $($pester.Inconclusive) inconclusive test(s)") }
        if (-not $Tag -and [int]$pester.NotRun -gt 0) { $problems.Add("Pester ran $pesterRan of the $($pester.Discovered) tests it discovered") }
        if ($pesterExit -and -not $pester.Failed) { $problems.Add("Pester exited with $pesterExit without a failed test") }
    }
    else {
        $problems.Add("Pester produced no summary (exit $pesterExit)")
    }

    $floorFile = Join-Path $Root 'tests/test-floor.txt'
    $ran = $passed + $failed
    if ($partial.Count -eq 0) {
        $floor = [int]((Get-Content $floorFile -ErrorAction SilentlyContinue | Where-Object { $_ -match '^\s*\d+\s*$' } | Select-Object -First 1) ?? 0)
        if ($floor -le 0) { $problems.Add("tests/test-floor.txt holds no floor") }
        elseif ($ran -lt $floor) { $problems.Add("$ran tests ran, below the floor of $floor in tests/test-floor.txt (tests went missing; lower the floor only deliberately)") }
        elseif ($ran -gt $floor) { Write-Host "Floor: $ran tests ran, the floor is $floor; raise tests/test-floor.txt to $ran in the commit that added them." }
        else { Write-Host "Floor: $ran tests ran, exactly the floor." }
    }
    else {
        Write-Host "PARTIAL run ($($partial -join '; ')): not a full run; the floor in tests/test-floor.txt is not checked."
    }

    foreach ($problem in $problems) { Write-Host "Counted as one failure: $problem." }
    $failed += $problems.Count
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
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
    # A .nupkg published with PSResourceGet to a local folder repository (out/feed), as a private feed would receive
    # it; out/PMS.Flags.<version>.nupkg is the same package, ready for Publish-PSResource -NupkgPath to a real feed.
    Invoke-Build
    $package = & (Join-Path $Root 'build/Publish-ModulePackage.ps1') -ModuleDirectory $ModuleOut -FeedDirectory (Join-Path $Out 'feed') -DestinationPath $Out
    Write-Host "Packaged $package (folder repository: $(Join-Path $Out 'feed'))"
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
            Write-Host 'Tests: 0 passed, 1 failed, 0 skipped'
            exit 1
        }
    }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Clean' { Invoke-Clean }
}
