<#
.SYNOPSIS
    Packs a built PMS.Flags module into a .nupkg by publishing it with PSResourceGet to a local folder repository,
    exactly as it would be published to a private feed (Azure Artifacts, GitHub Packages). Works offline.
.DESCRIPTION
    Runs in a child pwsh whose PSResourceGet configuration lives under -FeedDirectory (XDG_DATA_HOME points there), so
    registering the folder repository never touches the user's own repository list. Writes the package into
    -FeedDirectory (the folder repository) and a copy into -DestinationPath. Returns the copy's path.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $FeedDirectory,
    [Parameter(Mandatory)] [string] $DestinationPath
)
$ErrorActionPreference = 'Stop'
$null = New-Item -ItemType Directory -Force $FeedDirectory, $DestinationPath
$config = New-Item -ItemType Directory -Force (Join-Path $FeedDirectory '.psresourceget')
$version = (Import-PowerShellDataFile (Join-Path $ModuleDirectory 'PMS.Flags.psd1')).ModuleVersion
$package = Join-Path $DestinationPath "PMS.Flags.$version.nupkg"
if (Test-Path -LiteralPath $package) { Remove-Item -LiteralPath $package }
Get-ChildItem -LiteralPath $FeedDirectory -Filter "PMS.Flags.$version.nupkg" | Remove-Item

$script = {
    param($feed, $module, $destination)
    $ErrorActionPreference = 'Stop'
    Register-PSResourceRepository -Name PMSFlagsLocal -Uri $feed -Trusted -Force
    Publish-PSResource -Path $module -Repository PMSFlagsLocal -DestinationPath $destination
}
$saved = $env:XDG_DATA_HOME
try {
    $env:XDG_DATA_HOME = $config.FullName
    $pwsh = Join-Path $PSHOME 'pwsh.dll'
    $output = & dotnet $pwsh -NoProfile -NonInteractive -Command $script -args $FeedDirectory, $ModuleDirectory, $DestinationPath 2>&1
    if ($LASTEXITCODE -or -not (Test-Path -LiteralPath $package)) { throw "Publish-PSResource failed (exit $LASTEXITCODE): $($output | Out-String)" }
}
finally { $env:XDG_DATA_HOME = $saved }
$package
