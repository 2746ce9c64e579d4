<#
.SYNOPSIS
    Builds the module's MAML help (PMS.Flags.Cmdlets.dll-Help.xml) from readable sources, without platyPS.
.DESCRIPTION
    One module/help/<Verb-Noun>.help.psd1 per cmdlet holds the words: Synopsis, Description, Parameters
    (name -> description), Examples (Title, Code, Remarks), Notes, Inputs/Outputs (optional, type name -> description)
    and RelatedLinks. Everything the code already knows -- parameter sets, types, Mandatory, Position, pipeline input,
    aliases, wildcards, output types -- is read from the BUILT module in a child pwsh, so the help cannot drift from
    the cmdlets and the building session never loads (and locks) the module's dlls.

    The build fails when a cmdlet has no help source, a source names a cmdlet that is not exported, a parameter has
    no description, or a description names a parameter the cmdlet does not have.
.EXAMPLE
    ./build/New-MamlHelp.ps1 -SourceDirectory module/help -OutputPath out/PMS.Flags/en-US/PMS.Flags.Cmdlets.dll-Help.xml
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $SourceDirectory,
    [Parameter(Mandatory)] [string] $OutputPath,
    # The built manifest; by default the .psd1 in the folder above the output's culture folder (out/PMS.Flags/en-US/..).
    [string] $ModulePath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not $ModulePath) {
    $moduleDirectory = Split-Path (Split-Path ([IO.Path]::GetFullPath($OutputPath)))
    $ModulePath = @(Get-ChildItem $moduleDirectory -Filter '*.psd1')[0].FullName
}

# ---- 1. What the code says, from a child pwsh -------------------------------------------------------------------
$metadataScript = {
    param([string] $ModulePath, [string] $OutFile)
    $ErrorActionPreference = 'Stop'
    $module = Import-Module $ModulePath -PassThru
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + @('UseTransaction')
    $commands = foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
        [ordered]@{
            Name          = $command.Name
            Verb          = $command.Verb
            Noun          = $command.Noun
            OutputTypes   = @($command.OutputType | ForEach-Object { $_.Name })
            ParameterSets = @(foreach ($set in $command.ParameterSets) {
                    [ordered]@{
                        Name       = $set.Name
                        IsDefault  = $set.IsDefault
                        Parameters = @(foreach ($p in $set.Parameters | Where-Object Name -NotIn $common) {
                                [ordered]@{
                                    Name                            = $p.Name
                                    Type                            = $p.ParameterType.FullName
                                    TypeName                        = $p.ParameterType.Name
                                    IsSwitch                        = $p.ParameterType -eq [switch]
                                    IsMandatory                     = $p.IsMandatory
                                    Position                        = $p.Position
                                    ValueFromPipeline               = $p.ValueFromPipeline
                                    ValueFromPipelineByPropertyName = $p.ValueFromPipelineByPropertyName
                                    Aliases                         = @($p.Aliases)
                                    Globbing                        = [bool]($command.Parameters[$p.Name].Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                                    ValidValues                     = @($command.Parameters[$p.Name].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object ValidValues)
                                }
                            })
                    }
                })
        }
    }
    ConvertTo-Json -InputObject @($commands) -Depth 8 | Set-Content -Path $OutFile -Encoding utf8
}

$scratch = Join-Path ([IO.Path]::GetTempPath()) ("pms-flags-help-" + [guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory -Force $scratch
try {
    $scriptFile = Join-Path $scratch 'metadata.ps1'
    $jsonFile = Join-Path $scratch 'metadata.json'
    Set-Content -Path $scriptFile -Value $metadataScript.ToString() -Encoding utf8
    # The same pwsh that runs this script: `dotnet pwsh.dll` for the dotnet tool, the executable otherwise.
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $processPath = [Environment]::ProcessPath
    if ((Split-Path -Leaf $processPath) -match '^dotnet(\.exe)?$' -and (Test-Path $pwshDll)) {
        & $processPath $pwshDll -NoProfile -NonInteractive -File $scriptFile -ModulePath $ModulePath -OutFile $jsonFile
    }
    else {
        & $processPath -NoProfile -NonInteractive -File $scriptFile -ModulePath $ModulePath -OutFile $jsonFile
    }
    if ($LASTEXITCODE) { throw "Reading the cmdlet metadata of '$ModulePath' failed (exit $LASTEXITCODE)." }
    $commands = Get-Content -Raw $jsonFile | ConvertFrom-Json
}
finally {
    Remove-Item $scratch -Recurse -Force -ErrorAction SilentlyContinue
}

# ---- 2. What the words say ----------------------------------------------------------------------------------------
function Read-HelpSource([string] $Path) {
    $data = Import-PowerShellDataFile -Path $Path   # restricted language: a help source cannot run code
    foreach ($key in 'Synopsis', 'Description', 'Parameters', 'Examples') {
        if (-not $data.ContainsKey($key) -or -not $data[$key]) { throw "${Path}: '$key' is missing or empty." }
    }
    # Hashtables forget their order; the AST remembers the order the author wrote the parameters in.
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref] $null, [ref] $null)
    $root = $ast.Find({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $false)
    $parameterAst = ($root.KeyValuePairs | Where-Object { $_.Item1.Extent.Text.Trim("'`"") -eq 'Parameters' }).Item2
    $data.ParameterOrder = @($parameterAst.Find({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $true).KeyValuePairs |
            ForEach-Object { $_.Item1.Extent.Text.Trim("'`"") })
    $data
}

$sources = @{}
foreach ($file in Get-ChildItem $SourceDirectory -Filter '*.help.psd1') {
    $sources[$file.Name -replace '\.help\.psd1$', ''] = Read-HelpSource $file.FullName
}

$problems = [System.Collections.Generic.List[string]]::new()
foreach ($name in $sources.Keys) {
    if ($name -notin $commands.Name) { $problems.Add("module/help/$name.help.psd1 documents a cmdlet the module does not export.") }
}
foreach ($command in $commands) {
    if (-not $sources.ContainsKey($command.Name)) { $problems.Add("$($command.Name) has no module/help/$($command.Name).help.psd1."); continue }
    $documented = @($sources[$command.Name].Parameters.Keys)
    $actual = @($command.ParameterSets.Parameters.Name | Select-Object -Unique)
    foreach ($p in $actual) { if ($p -notin $documented -or -not $sources[$command.Name].Parameters[$p]) { $problems.Add("$($command.Name) -$p has no description.") } }
    foreach ($p in $documented) { if ($p -notin $actual) { $problems.Add("$($command.Name) documents -$p, which the cmdlet does not have.") } }
}
if ($problems.Count) { throw "Help sources disagree with the cmdlets:`n  " + ($problems -join "`n  ") }

# ---- 3. MAML ------------------------------------------------------------------------------------------------------
$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$null = New-Item -ItemType Directory -Force (Split-Path ([IO.Path]::GetFullPath($OutputPath)))
$w = [System.Xml.XmlWriter]::Create([IO.Path]::GetFullPath($OutputPath), $settings)

function Write-Paragraphs([string] $Text) {
    # Blank lines separate paragraphs; lines inside a paragraph are joined, except indented or bulleted lines,
    # which keep their own paragraph so lists and small tables stay readable in Get-Help.
    $paragraphs = @(([string]$Text).Trim() -split '\r?\n\s*\r?\n')
    foreach ($paragraph in $paragraphs) {
        $lines = @($paragraph -split '\r?\n')
        $buffer = [System.Collections.Generic.List[string]]::new()
        foreach ($line in $lines) {
            if ($line -match '^\s*([-*]|\d+\.)\s' -or $line -match '^\s{2,}\S') {
                if ($buffer.Count) { $w.WriteElementString('para', $ns.maml, ($buffer -join ' ')); $buffer.Clear() }
                $w.WriteElementString('para', $ns.maml, $line.TrimEnd())
            }
            else { $buffer.Add($line.Trim()) }
        }
        if ($buffer.Count) { $w.WriteElementString('para', $ns.maml, ($buffer -join ' ')) }
    }
}

function Write-Description([string] $Text) {
    $w.WriteStartElement('maml', 'description', $ns.maml)
    Write-Paragraphs $Text
    $w.WriteEndElement()
}

function Get-PipelineInput($p) {
    $kinds = @()
    if ($p.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($p.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Write-Parameter($p, [string] $Description, [switch] $InSyntax) {
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', $p.IsMandatory.ToString().ToLowerInvariant())
    $w.WriteAttributeString('variableLength', ($p.Type.EndsWith('[]')).ToString().ToLowerInvariant())
    $w.WriteAttributeString('globbing', $p.Globbing.ToString().ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', (Get-PipelineInput $p))
    $w.WriteAttributeString('position', $(if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }))
    $w.WriteAttributeString('aliases', $(if ($p.Aliases) { $p.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('name', $ns.maml, $p.Name)
    Write-Description $Description
    if ($InSyntax -and $p.ValidValues) {
        $w.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($value in $p.ValidValues) {
            $w.WriteStartElement('command', 'parameterValue', $ns.command)
            $w.WriteAttributeString('required', 'false')
            $w.WriteAttributeString('variableLength', 'false')
            $w.WriteString($value)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    elseif (-not ($InSyntax -and $p.IsSwitch)) {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', (-not $p.IsSwitch).ToString().ToLowerInvariant())
        $w.WriteAttributeString('variableLength', ($p.Type.EndsWith('[]')).ToString().ToLowerInvariant())
        $w.WriteString($p.TypeName)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $ns.dev)
    $w.WriteElementString('name', $ns.maml, $p.Type)
    $w.WriteElementString('uri', $ns.maml, '')
    $w.WriteEndElement()
    $w.WriteElementString('defaultValue', $ns.dev, $(if ($p.IsSwitch) { 'False' } else { 'None' }))
    $w.WriteEndElement()
}

function Get-SortedParameters($parameters, $order) {
    # Positional first (by position), then in the order the help source lists them.
    @($parameters | Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } }, @{ Expression = { [array]::IndexOf($order, $_.Name) } })
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', $ns.msh)
$w.WriteAttributeString('schema', 'maml')
foreach ($command in $commands) {
    $source = $sources[$command.Name]
    $order = [string[]]$source.ParameterOrder
    $w.WriteStartElement('command', 'command', $ns.command)
    foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') { $w.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix]) }

    $w.WriteStartElement('command', 'details', $ns.command)
    $w.WriteElementString('name', $ns.command, $command.Name)
    $w.WriteElementString('verb', $ns.command, $command.Verb)
    $w.WriteElementString('noun', $ns.command, $command.Noun)
    Write-Description $source.Synopsis
    $w.WriteEndElement()

    Write-Description $source.Description

    # Syntax: one item per parameter set, default set first.
    $w.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in @($command.ParameterSets | Sort-Object { -not $_.IsDefault })) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        $w.WriteElementString('name', $ns.maml, $command.Name)
        foreach ($p in Get-SortedParameters $set.Parameters $order) { Write-Parameter $p $source.Parameters[$p.Name] -InSyntax }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # Parameters: each once, as the default set (or the first set that has it) declares it.
    $w.WriteStartElement('command', 'parameters', $ns.command)
    $seen = @{}
    $all = foreach ($set in @($command.ParameterSets | Sort-Object { -not $_.IsDefault })) {
        foreach ($p in $set.Parameters) { if (-not $seen.ContainsKey($p.Name)) { $seen[$p.Name] = $true; $p } }
    }
    foreach ($p in @($all | Sort-Object { [array]::IndexOf($order, $_.Name) })) {
        # A parameter mandatory in only some sets is shown as optional here; the syntax shows each set exactly.
        $mandatoryEverywhere = @($command.ParameterSets | Where-Object { $_.Parameters.Name -contains $p.Name } | ForEach-Object { ($_.Parameters | Where-Object Name -EQ $p.Name).IsMandatory }) -notcontains $false
        $copy = $p.PSObject.Copy(); $copy.IsMandatory = $mandatoryEverywhere
        Write-Parameter $copy $source.Parameters[$p.Name]
    }
    $w.WriteEndElement()

    # Inputs: what the help source says, else one entry per parameter a pipeline can bind; outputs: the OutputType.
    $inputs = [System.Collections.Generic.List[object]]::new()
    if ($source.ContainsKey('Inputs')) {
        foreach ($key in $source.Inputs.Keys) { $inputs.Add(@($key, $source.Inputs[$key])) }
    }
    else {
        foreach ($p in $all | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName }) {
            $how = if ($p.ValueFromPipeline) { "Bound to -$($p.Name) by value." }
            else { "Bound to -$($p.Name) by property name, from any object with a property named $(@(@($p.Name) + @($p.Aliases)) -join ' or ')." }
            $inputs.Add(@($p.Type, $how))
        }
        if (-not $inputs.Count) { $inputs.Add(@('None', 'This cmdlet does not take pipeline input.')) }
    }
    $w.WriteStartElement('command', 'inputTypes', $ns.command)
    foreach ($entry in $inputs) {
        $w.WriteStartElement('command', 'inputType', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $entry[0]); $w.WriteEndElement()
        Write-Description $entry[1]
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($type in $command.OutputTypes) {
        $w.WriteStartElement('command', 'returnValue', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $type); $w.WriteEndElement()
        $text = if ($source.ContainsKey('Outputs') -and $source.Outputs.ContainsKey($type)) { $source.Outputs[$type] } else { '' }
        Write-Description $text
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    if ($source.ContainsKey('Notes') -and $source.Notes) {
        $w.WriteStartElement('maml', 'alertSet', $ns.maml)
        $w.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Paragraphs $source.Notes
        $w.WriteEndElement()
        $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $ns.command)
    $number = 0
    foreach ($example in @($source.Examples)) {
        $number++
        if (-not $example.Code) { throw "$($command.Name): example $number has no code." }
        $w.WriteStartElement('command', 'example', $ns.command)
        $w.WriteElementString('title', $ns.maml, "---------- Example ${number}: $($example.Title) ----------")
        $w.WriteElementString('code', $ns.dev, ([string]$example.Code).Trim())
        $w.WriteStartElement('dev', 'remarks', $ns.dev)
        Write-Paragraphs $(if ($example.ContainsKey('Remarks')) { $example.Remarks } else { '' })
        $w.WriteElementString('para', $ns.maml, '')   # a blank line before the next example
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in @($(if ($source.ContainsKey('RelatedLinks')) { $source.RelatedLinks }))) {
        $w.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $w.WriteElementString('linkText', $ns.maml, $link)
        $w.WriteElementString('uri', $ns.maml, $(if ($link -match '^https?://') { $link } else { '' }))
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteEndElement()   # command:command
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()
Write-Verbose "Wrote help for $(@($commands).Count) cmdlets to $OutputPath"
