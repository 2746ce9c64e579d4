#Requires -Version 7.4
# The module installed the way PowerShell teams install internal modules: published with PSResourceGet to a folder
# repository (what build.ps1 Package does), installed with Install-PSResource into an isolated module path, imported by
# name in a fresh pwsh that sees only that path.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe '11. Install from a private feed' -Tag Operator, Package {
    BeforeAll {
        $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-package-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $script:Work
        $script:Feed = Join-Path $script:Work 'feed'
        $script:Package = & (Join-Path $env:PMS_FLAGS_REPO 'build/Publish-ModulePackage.ps1') -ModuleDirectory (Split-Path $env:PMS_FLAGS_MODULE) -FeedDirectory $script:Feed -DestinationPath (Join-Path $script:Work 'out')
        $script:Version = (Import-PowerShellDataFile $env:PMS_FLAGS_MODULE).ModuleVersion
    }
    AfterAll { Remove-Item -LiteralPath $script:Work -Recurse -Force -ErrorAction SilentlyContinue }

    It 'packs out/PMS.Flags.<version>.nupkg with what a feed shows' {
        Split-Path -Leaf $script:Package | Should -Be "PMS.Flags.$script:Version.nupkg"
        Test-Path -LiteralPath (Join-Path $script:Feed "PMS.Flags.$script:Version.nupkg") | Should -BeTrue
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($script:Package)
        try {
            $entries = $zip.Entries.FullName
            $nuspec = [xml]([IO.StreamReader]::new(($zip.Entries | Where-Object FullName -EQ 'PMS.Flags.nuspec').Open()).ReadToEnd())
        }
        finally { $zip.Dispose() }
        $entries | Should -Contain 'PMS.Flags.Cmdlets.dll'
        $entries | Should -Contain 'PMS.Flags.Loader.dll' -Because 'the nested module that hooks the engine before the cmdlets are scanned'
        $entries | Should -Contain 'dependencies/PMS.Flags.Engine.dll'
        $entries | Should -Contain 'en-US/PMS.Flags.Cmdlets.dll-Help.xml'
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'PMS.Flags'
        $metadata.version | Should -Be $script:Version
        $metadata.description | Should -Not -BeNullOrEmpty
        $metadata.tags | Should -BeLike '*FeatureFlags*'
        $metadata.projectUrl | Should -Not -BeNullOrEmpty
        $metadata.licenseUrl | Should -Not -BeNullOrEmpty
        $metadata.releaseNotes | Should -Not -BeNullOrEmpty
    }

    It 'installs with Install-PSResource into an isolated path and runs Get-Flag in a fresh pwsh that sees only that path' {
        $data = Join-Path $script:Work 'data'
        $flagFile = Join-Path $script:Work 'feature_flags.json'
        [IO.File]::WriteAllText($flagFile, $script:SampleDocument)
        # HOME (and XDG_DATA_HOME) point into the sandbox: PSResourceGet's repository list and the CurrentUser module
        # path are both under it, so nothing of the machine's own configuration or modules is touched or seen.
        $installScript = @'
param($feed)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name PrivateFeed -Uri $feed -Trusted
Install-PSResource -Name PMS.Flags -Repository PrivateFeed -Scope CurrentUser -Quiet
(Get-InstalledPSResource -Name PMS.Flags -Scope CurrentUser).InstalledLocation
'@
        # The folder must exist: .NET answers an empty LocalApplicationData for a missing one, and PSResourceGet would
        # then keep its repository list in the current directory.
        $null = New-Item -ItemType Directory -Force (Join-Path $data '.local/share')
        $saved = $env:HOME, $env:XDG_DATA_HOME
        $env:HOME = $data
        $env:XDG_DATA_HOME = Join-Path $data '.local/share'
        try {
            $install = Invoke-ChildPwsh -WorkDirectory $script:Work -ArgumentList $script:Feed -Script $installScript
        }
        finally { $env:HOME, $env:XDG_DATA_HOME = $saved }
        $install.ExitCode | Should -Be 0 -Because $install.Output
        $modules = Join-Path $data '.local/share/powershell/Modules'
        $install.Output | Should -BeLike "*$modules*" -Because 'Install-PSResource reports where it installed'
        Test-Path -LiteralPath (Join-Path $modules "PMS.Flags/$script:Version/PMS.Flags.psd1") | Should -BeTrue

        $run = Invoke-ChildPwsh -WorkDirectory $script:Work -ArgumentList $modules, $flagFile, (Join-Path $script:Work 'state') -Script @'
param($modules, $flagFile, $state)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $modules
$env:PMS_FLAGS_STATE_DIR = $state
Import-Module PMS.Flags
"base=$((Get-Module PMS.Flags).ModuleBase)"
$null = Connect-FlagStore -Path $flagFile
Get-Flag -Environment production | ForEach-Object { "flag=$($_.Flag):$($_.On):$($_.Percentage)" }
'@
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -BeLike "*base=$modules/PMS.Flags/$script:Version*"
        $run.Output | Should -BeLike '*flag=patient_portal_v2:True:25*'
        $run.Output | Should -BeLike '*flag=new_reports:False:0*'
    }
}
