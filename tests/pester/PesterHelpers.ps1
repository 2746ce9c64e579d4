<#
.SYNOPSIS
    Shared helpers for the PMS.Flags Pester suite: dot-source in BeforeAll (and BeforeDiscovery where test cases need
    the module). Invoke-PesterSuite.ps1 sets $env:PMS_FLAGS_MODULE (the BUILT manifest) and $env:PMS_FLAGS_REPO.

    Every test works in its own temporary sandbox and points $env:PMS_FLAGS_STATE_DIR (default ledger, spool) at it,
    so nothing touches the real home directory.
#>

if (-not $env:PMS_FLAGS_MODULE) { throw 'PMS_FLAGS_MODULE is not set: run the suite through build.ps1 Test or tests/pester/Invoke-PesterSuite.ps1.' }
if (-not (Get-Module PMS.Flags)) { Import-Module $env:PMS_FLAGS_MODULE -ErrorAction Stop }

# The child pwsh is the very pwsh running the suite: `dotnet pwsh.dll` for the pinned dotnet tool.
$script:PwshDll = Join-Path $PSHOME 'pwsh.dll'
$script:DotnetExe = if ((Split-Path -Leaf ([Environment]::ProcessPath)) -match '^dotnet(\.exe)?$') { [Environment]::ProcessPath } else { 'dotnet' }

# The variables every test may change; saved before a file runs and restored after it.
# Suites written before the readiness gate change production without a checklist: they run with the gate off (every
# event then records readiness.verdict = gate_off). Readiness.Tests.ps1 switches it back on.
$env:PMS_FLAGS_READINESS_GATE = 'off'
$script:PmsEnvironmentNames = 'PMS_FLAGS_STATE_DIR', 'PMS_FLAGS_LEDGER', 'XDG_STATE_HOME', 'GITHUB_ACTOR', 'BUILD_REQUESTEDFOREMAIL', 'PMS_FLAGS_READINESS_GATE'

# A small playbook-shaped document: every spelling of a flag (false, true, a partial-rollout object with an extra key),
# flags present in one environment only, and unusual whitespace that a careless rewrite would lose.
$script:SampleDocument = @'
{
  "staging": {
    "telehealth_appointments_enabled": false,
    "new_billing_engine": { "enabled": true, "rollout_percentage": 10, "owner": "billing" },
    "new_scheduler": true,
    "patient_portal_v2": { "enabled": false, "rollout_percentage": 30 }
  },
  "production": {
    "telehealth_appointments_enabled": false,
    "new_billing_engine":   false,
    "new_reports": false,
    "patient_portal_v2": { "enabled": true, "rollout_percentage": 25 }
  }
}
'@

function Save-PmsEnvironment {
    $saved = @{}
    foreach ($name in $script:PmsEnvironmentNames) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    # CI agents set these; a test that wants them sets them itself.
    foreach ($name in 'GITHUB_ACTOR', 'BUILD_REQUESTEDFOREMAIL', 'PMS_FLAGS_LEDGER') { [Environment]::SetEnvironmentVariable($name, $null) }
    $saved
}

function Restore-PmsEnvironment([hashtable] $Saved) {
    foreach ($name in $Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
}

function New-FlagSandbox {
    <# A temp folder with feature_flags.json and a ledger path; connects both to the session unless -NoConnect. #>
    param(
        [string] $Document = $script:SampleDocument,
        [switch] $NoConnect,
        # Record one change first, so the ledger has bytes that "byte-identical" checks can compare.
        [switch] $SeedLedger
    )
    $root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-pester-' + [guid]::NewGuid().ToString('N'))
    # The ledger's folder exists, as an operator's would: Connect-FlagLedger creates a ledger file, never folders.
    $null = New-Item -ItemType Directory -Force $root, (Join-Path $root 'audit')
    $stateDir = Join-Path $root 'state'
    $env:PMS_FLAGS_STATE_DIR = $stateDir
    $flagFile = Join-Path $root 'feature_flags.json'
    [IO.File]::WriteAllText($flagFile, $Document)
    $sandbox = [pscustomobject]@{
        Root       = $root
        FlagFile   = $flagFile
        LedgerPath = Join-Path $root 'audit/ledger.jsonl'
        StateDir   = $stateDir
        SpoolDir   = Join-Path $stateDir 'spool'
        Store      = $null
        Ledger     = $null
    }
    if (-not $NoConnect) {
        $sandbox.Store = Connect-FlagStore -Path $flagFile
        $sandbox.Ledger = Connect-FlagLedger -Path $sandbox.LedgerPath 3>$null
    }
    if ($SeedLedger) {
        $null = Set-FlagPercentage -Flag new_billing_engine -Environment staging -Percentage 20 -Reason 'seed event'
    }
    $sandbox
}

function Remove-FlagSandbox($Sandbox) {
    if ($Sandbox -and (Test-Path -LiteralPath $Sandbox.Root)) { Remove-Item -LiteralPath $Sandbox.Root -Recurse -Force }
}

function Get-FileSnapshot {
    <# One line per path: its SHA-256, or <absent>. Equal snapshots mean byte-identical files. #>
    param([string[]] $Path)
    @(foreach ($p in $Path) {
            $hash = if (Test-Path -LiteralPath $p -PathType Leaf) { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($p))) } else { '<absent>' }
            "$p=$hash"
        }) -join "`n"
}

function Get-SpoolFile($Sandbox) {
    @(if (Test-Path -LiteralPath $Sandbox.SpoolDir) { Get-ChildItem -LiteralPath $Sandbox.SpoolDir -File })
}

function Read-LedgerLine([string] $Path) {
    <# The raw ledger lines as parsed JSON (property names exactly as stored). #>
    @(Get-Content -LiteralPath $Path | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json -DateKind String })
}

function Read-FlagDocument([string] $Path) {
    Get-Content -Raw -LiteralPath $Path | ConvertFrom-Json -AsHashtable
}

function New-UnwritableLedger($Sandbox) {
    <#
    A ledger whose folder cannot be created because a regular file is in the way (tests run as root, so chmod
    cannot make a path unwritable). The object is built from the connected ledger's own type, because the engine
    lives in a private load context and its type names do not resolve in PowerShell.
    #>
    $blocker = Join-Path $Sandbox.Root 'blocker'
    Set-Content -LiteralPath $blocker -Value 'a regular file where the ledger folder should be'
    $type = $Sandbox.Ledger.GetType()
    [pscustomobject]@{ Ledger = $type::new((Join-Path $blocker 'ledger.jsonl')); Blocker = $blocker; Path = (Join-Path $blocker 'ledger.jsonl') }
}

function Invoke-InFreshRunspace {
    <#
    Runs a script in a new runspace of this process with the module imported and the location set: a session that
    has connected nothing. Returns the output (use 4>&1 inside to capture verbose) and the streams.
    #>
    param([Parameter(Mandatory)] [string] $Script, [Parameter(Mandatory)] [string] $Location, [object[]] $ArgumentList = @())
    $runspace = [runspacefactory]::CreateRunspace([System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2())
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    try {
        $null = $ps.AddScript('param($module, $location) Import-Module $module -ErrorAction Stop; Set-Location -LiteralPath $location').AddArgument($env:PMS_FLAGS_MODULE).AddArgument($Location)
        $null = $ps.AddStatement().AddScript($Script)
        foreach ($argument in $ArgumentList) { $null = $ps.AddArgument($argument) }
        $output = $ps.Invoke()
        [pscustomobject]@{
            Output  = @($output)
            Error   = @($ps.Streams.Error)
            Warning = @($ps.Streams.Warning)
            Verbose = @($ps.Streams.Verbose)
        }
    }
    finally {
        $ps.Dispose()
        $runspace.Dispose()
    }
}

function Invoke-ChildPwsh {
    <# Runs a script file's text in a child `dotnet pwsh.dll -NoProfile -NonInteractive`, returning exit code and output. #>
    param([Parameter(Mandatory)] [string] $Script, [string[]] $ArgumentList = @(), [Parameter(Mandatory)] [string] $WorkDirectory)
    $file = Join-Path $WorkDirectory ('child-' + [guid]::NewGuid().ToString('N') + '.ps1')
    Set-Content -LiteralPath $file -Value $Script
    $output = & $script:DotnetExe $script:PwshDll -NoProfile -NonInteractive -File $file @ArgumentList 2>&1
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
}

function Start-ChildPwsh {
    <# Starts a child pwsh without waiting; the caller waits on the returned Process (and kills only that one on timeout). #>
    param([Parameter(Mandatory)] [string] $ScriptPath, [string[]] $ArgumentList = @())
    $info = [System.Diagnostics.ProcessStartInfo]::new($script:DotnetExe)
    foreach ($a in @($script:PwshDll, '-NoProfile', '-NonInteractive', '-File', $ScriptPath) + $ArgumentList) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    [pscustomobject]@{
        Process = $process
        Stdout  = $process.StandardOutput.ReadToEndAsync()
        Stderr  = $process.StandardError.ReadToEndAsync()
    }
}

# The playbook's "Example Prometheus alerts" block, verbatim, from the copy of the playbook kept in tests/fixtures.
function Get-PlaybookAlertRules {
    $playbook = Join-Path $PSScriptRoot '../fixtures/playbook/feature-flag-migration-playbook.md'
    $block = [regex]::Match((Get-Content -Raw -LiteralPath $playbook), '(?s)# Example Prometheus alerts\n(?<yaml>groups:.*?)\n```').Groups['yaml'].Value
    if (-not $block) { throw "The playbook copy '$playbook' has no 'Example Prometheus alerts' block." }
    $block
}
