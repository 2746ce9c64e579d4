#Requires -Version 7.4
# CI-native output of the rollout cmdlets, seen the way a CI system sees it: Step-FlagRollout runs in a CHILD pwsh with
# the CI system's environment variables, on a real rollout of a local feature_flags.json whose guardrail is the backend
# stand-in's /health (POST /_control/health {"healthy":false} makes it answer 503: a breach). Also checks the CI
# examples: the GitHub workflow against the @action-validator/cli schema check, both files as YAML, and their step
# scripts run as the pipelines would run them.

BeforeDiscovery {
    # PyYAML for Debian's python3 is required: build.ps1 Bootstrap installs it (build/bootstrap/30-promtool-pyyaml.sh).
    # Discovery-time variables do not reach the run phase, so the interpreter travels in the test cases.
    $yamlCase = @{ Python = '/usr/bin/python3'; YamlCheck = 'parsed with PyYAML' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Servers.ps1')
    if (-not $env:PMS_FLAGS_TESTSERVERS) { throw 'PMS_FLAGS_TESTSERVERS is not set: run the suite through build.ps1 Test, which builds the stand-ins.' }

    $script:Saved = Save-PmsEnvironment
    # The suite itself may run under GitHub Actions or Azure Pipelines: nothing this session does may annotate that
    # run or write to its job summary. Only the child processes below get CI variables, and only the ones a test sets.
    $script:CiNames = 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'TF_BUILD'
    $script:SavedCi = @{}
    foreach ($name in $script:CiNames) { $script:SavedCi[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $null) }

    $script:Flag = 'telehealth_appointments_enabled'
    $script:Repo = $env:PMS_FLAGS_REPO

    # The layout a pipeline checks out: ./apps/backend/config/feature_flags.json and ./out/PMS.Flags (the built
    # module). A rollout is bound to its store's path, so the child processes must see the very same file.
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) ('pms-flags-ci-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Force (Join-Path $script:Root 'apps/backend/config'), (Join-Path $script:Root 'out')
    $null = New-Item -ItemType SymbolicLink -Path (Join-Path $script:Root 'out/PMS.Flags') -Target (Split-Path $env:PMS_FLAGS_MODULE)
    $script:FlagFile = Join-Path $script:Root 'apps/backend/config/feature_flags.json'
    [IO.File]::WriteAllText($script:FlagFile, $script:SampleDocument)
    $script:LedgerPath = Join-Path $script:Root 'audit/ledger.jsonl'
    $null = New-Item -ItemType Directory -Force (Join-Path $script:Root 'audit')
    $env:PMS_FLAGS_STATE_DIR = Join-Path $script:Root 'state'
    $null = Connect-FlagStore -Path $script:FlagFile
    $null = Connect-FlagLedger -Path $script:LedgerPath

    $script:Backend = Start-BackendStandIn -FlagFile $script:FlagFile -Flag $script:Flag -Environment production

    function Set-BackendHealthy([bool] $Healthy) {
        $body = @{ healthy = $Healthy } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post "$($script:Backend.BaseUri)/_control/health" -ContentType 'application/json' -Body $body -TimeoutSec 10
    }

    function Start-CiTestRollout([ValidateSet('Critical', 'Warning')] [string] $Severity) {
        <# A fresh rollout of the flag in production at 5%, baking an hour, guarded by the stand-in's /health. #>
        foreach ($active in @(Get-FlagRollout -Flag $script:Flag -Environment production -Active)) {
            $null = Stop-FlagRollout -RolloutId $active.RolloutId -Reason 'CI output test: clearing the previous rollout' -Force
        }
        Set-BackendHealthy $true
        $guardrail = New-FlagGuardrail -HealthUrl "$($script:Backend.BaseUri)/health" -Name backend-health -Severity $Severity
        Start-FlagRollout -Flag $script:Flag -Environment production -Stages 5, 25, 100 -BakeTime 01:00:00 -Guardrail $guardrail `
            -Reason "CI output test ($Severity)" -ApprovalTicket TICKET-CI -NoWait
    }

    function Invoke-CiChild {
        <#
        Runs PowerShell text in a child `dotnet pwsh.dll -NoProfile -NonInteractive -Command`, in the checkout-like root,
        with every CI variable removed and then exactly -Environment added. Returns exit code, stdout and stderr apart.
        #>
        param([Parameter(Mandatory)] [string] $Command, [hashtable] $Environment = @{})
        $info = [System.Diagnostics.ProcessStartInfo]::new($script:DotnetExe)
        foreach ($a in $script:PwshDll, '-NoProfile', '-NonInteractive', '-Command', $Command) { $info.ArgumentList.Add($a) }
        $info.WorkingDirectory = $script:Root
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        foreach ($name in $script:CiNames + @('GITHUB_ACTOR', 'BUILD_REQUESTEDFOREMAIL')) { $null = $info.Environment.Remove($name) }
        $info.Environment['NO_COLOR'] = '1'
        $info.Environment['PMS_FLAGS_LEDGER'] = $script:LedgerPath
        $info.Environment['PMS_FLAGS_STATE_DIR'] = $env:PMS_FLAGS_STATE_DIR
        $info.Environment['CI_TEST_FLAG_FILE'] = $script:FlagFile
        foreach ($key in $Environment.Keys) { $info.Environment[$key] = [string]$Environment[$key] }
        $process = [System.Diagnostics.Process]::Start($info)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(180000)) {
            $process.Kill($true)
            throw "The child pwsh did not finish within 180 s. Output so far: $($stdout.Result)"
        }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Stdout = $stdout.Result; Stderr = $stderr.Result }
    }

    # What a scheduled CI job runs, reduced to the essentials; prints the action so the test knows what happened.
    $script:StepScript = @'
$ErrorActionPreference = 'Stop'
Import-Module $env:PMS_FLAGS_MODULE
Connect-FlagStore -Path $env:CI_TEST_FLAG_FILE | Out-Null
$result = Step-FlagRollout -Flag telehealth_appointments_enabled -Environment production
"ACTION=$($result.Action)"
'@

    $script:AnyAnnotation = '(?m)^(::(error|warning|notice)\b|##vso\[)'

    function New-SummaryPath { Join-Path $script:Root ('step-summary-' + [guid]::NewGuid().ToString('N') + '.md') }
}

AfterAll {
    Stop-StandIn $script:Backend
    foreach ($name in $script:SavedCi.Keys) { [Environment]::SetEnvironmentVariable($name, $script:SavedCi[$name]) }
    Restore-PmsEnvironment $script:Saved
    if ($script:Root -and (Test-Path -LiteralPath $script:Root)) { Remove-Item -LiteralPath $script:Root -Recurse -Force }
}

Describe 'Step-FlagRollout under GitHub Actions' -Tag CI {
    It 'rolls back on a critical breach, prints ::error lines and appends the Markdown job summary' {
        $rollout = Start-CiTestRollout -Severity Critical
        Set-BackendHealthy $false
        $summary = New-SummaryPath

        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=RolledBack\s*$'
        $run.Stdout | Should -Match '(?m)^::error title=Guardrail breached%3A backend-health::telehealth_appointments_enabled \[production\] guardrail backend-health BREACHED \[Critical\]'
        $run.Stdout | Should -Match '(?m)^::error title=Rollout rolled back::telehealth_appointments_enabled \[production\] was switched off: '
        $run.Stdout | Should -Match '(?m)\(detection to flag off \d+ ms\)\s*$'
        $run.Stdout | Should -Not -Match '(?m)^::warning'
        $run.Stdout | Should -Not -Match '(?m)^##vso\['

        $summary | Should -Exist
        $markdown = Get-Content -Raw -LiteralPath $summary
        $markdown | Should -Match '(?m)^### Flag rollout `telehealth_appointments_enabled` in `production`: RolledBack\s*$'
        $markdown | Should -Match ([regex]::Escape("| ``$($rollout.RolloutId)`` | RolledBack | 1/3 | 0% | - |"))
        $markdown | Should -Match '(?m)^\| Guardrail \| Severity \| Status \| Value \| Threshold \|\s*$'
        $markdown | Should -Match '(?m)^\|---\|---\|---\|---\|---\|\s*$'
        $markdown | Should -Match '(?m)^\| backend-health \| Critical \| Breached \| [0-9.]+ \| 2xx \|\s*$'

        # What the annotations claim is what happened: the flag is off and the rollout ended as rolled back.
        (Get-Flag -Flag $script:Flag -Environment production).On | Should -BeFalse
        (Get-FlagRollout -RolloutId $rollout.RolloutId).Status.ToString() | Should -Be 'RolledBack'
    }

    It 'pauses on a warning breach and prints ::warning lines, not ::error' {
        $rollout = Start-CiTestRollout -Severity Warning
        Set-BackendHealthy $false
        $summary = New-SummaryPath

        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=Paused\s*$'
        $run.Stdout | Should -Match '(?m)^::warning title=Guardrail breached%3A backend-health::telehealth_appointments_enabled \[production\] guardrail backend-health BREACHED \[Warning\]'
        $run.Stdout | Should -Match '(?m)^::warning title=Rollout paused::telehealth_appointments_enabled \[production\] paused at stage 1/3: '
        $run.Stdout | Should -Not -Match '(?m)^::error'

        $markdown = Get-Content -Raw -LiteralPath $summary
        $markdown | Should -Match '(?m)^### Flag rollout `telehealth_appointments_enabled` in `production`: Paused\s*$'
        $markdown | Should -Match '(?m)^\| backend-health \| Warning \| Breached \| [0-9.]+ \| 2xx \|\s*$'
        (Get-FlagRollout -RolloutId $rollout.RolloutId).Status.ToString() | Should -Be 'Paused'
        (Get-Flag -Flag $script:Flag -Environment production).Percentage | Should -Be 5 -Because 'a pause keeps the stage'
    }

    It 'writes the summary but no annotation while a healthy stage bakes' {
        $null = Start-CiTestRollout -Severity Critical
        $summary = New-SummaryPath

        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=Waiting\s*$'
        $run.Stdout | Should -Not -Match $script:AnyAnnotation
        $markdown = Get-Content -Raw -LiteralPath $summary
        $markdown | Should -Match '(?m)^### Flag rollout `telehealth_appointments_enabled` in `production`: Waiting\s*$'
        $markdown | Should -Match '(?m)^\| backend-health \| Critical \| Healthy \| [0-9.]+ \| 2xx \|\s*$'
    }

    It 'a job summary that cannot be written is a warning after the result, not a failed step' {
        $null = Start-CiTestRollout -Severity Critical
        $summary = New-SummaryPath
        $null = New-Item -ItemType Directory $summary   # a directory where the summary file should be

        $run = Invoke-CiChild -Command ($script:StepScript + "`n" + '"RESULT-WRITTEN"') -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=Waiting\s*$'
        $run.Stdout | Should -Match 'RESULT-WRITTEN'
        ($run.Stdout + $run.Stderr) | Should -Match 'job summary could not be written'
    }

    It 'appends one section per step to the same summary file' {
        $null = Start-CiTestRollout -Severity Critical
        $summary = New-SummaryPath
        $ci = @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        (Invoke-CiChild -Command $script:StepScript -Environment $ci).Stdout | Should -Match '(?m)^ACTION=Waiting\s*$'
        Set-BackendHealthy $false
        (Invoke-CiChild -Command $script:StepScript -Environment $ci).Stdout | Should -Match '(?m)^ACTION=RolledBack\s*$'

        $headings = @(Get-Content -LiteralPath $summary | Where-Object { $_ -like '### Flag rollout *' })
        $headings | Should -Be @(
            '### Flag rollout `telehealth_appointments_enabled` in `production`: Waiting'
            '### Flag rollout `telehealth_appointments_enabled` in `production`: RolledBack'
        )
    }

    It 'Stop-FlagRollout reports the abort as an ::error line and a summary too' {
        $null = Start-CiTestRollout -Severity Critical
        $summary = New-SummaryPath
        $stop = @'
$ErrorActionPreference = 'Stop'
Import-Module $env:PMS_FLAGS_MODULE
Connect-FlagStore -Path $env:CI_TEST_FLAG_FILE | Out-Null
$result = Stop-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Reason 'Abandoned in CI' -Force
"ACTION=$($result.Action) STATUS=$($result.Status)"
'@
        $run = Invoke-CiChild -Command $stop -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=RolledBack STATUS=Aborted\s*$'
        $run.Stdout | Should -Match '(?m)^::error title=Rollout rolled back::telehealth_appointments_enabled \[production\] was switched off: Stopped by '
        (Get-Content -Raw -LiteralPath $summary) | Should -Match '(?m)^### Flag rollout `telehealth_appointments_enabled` in `production`: RolledBack\s*$'
    }
}

Describe 'Step-FlagRollout under Azure Pipelines' -Tag CI {
    It 'prints ##vso[task.logissue type=error] lines on a critical breach, and no GitHub syntax or summary' {
        $null = Start-CiTestRollout -Severity Critical
        Set-BackendHealthy $false
        $summary = New-SummaryPath

        # A stray GITHUB_STEP_SUMMARY must not be written without GITHUB_ACTIONS=true.
        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ TF_BUILD = 'True'; GITHUB_STEP_SUMMARY = $summary }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=RolledBack\s*$'
        $run.Stdout | Should -Match '(?m)^##vso\[task\.logissue type=error\]Guardrail breached: backend-health: telehealth_appointments_enabled \[production%5D guardrail backend-health BREACHED'
        $run.Stdout | Should -Match '(?m)^##vso\[task\.logissue type=error\]Rollout rolled back: telehealth_appointments_enabled \[production%5D was switched off: '
        $run.Stdout | Should -Not -Match '(?m)^##vso\[task\.logissue type=warning\]'
        $run.Stdout | Should -Not -Match '(?m)^::'
        $summary | Should -Not -Exist
    }

    It 'prints ##vso[task.logissue type=warning] lines on a warning breach' {
        $null = Start-CiTestRollout -Severity Warning
        Set-BackendHealthy $false

        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ TF_BUILD = 'True' }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=Paused\s*$'
        $run.Stdout | Should -Match '(?m)^##vso\[task\.logissue type=warning\]Guardrail breached: backend-health: '
        $run.Stdout | Should -Match '(?m)^##vso\[task\.logissue type=warning\]Rollout paused: telehealth_appointments_enabled \[production%5D paused at stage 1/3: '
        $run.Stdout | Should -Not -Match '(?m)^##vso\[task\.logissue type=error\]'
    }
}

Describe 'Step-FlagRollout outside CI' -Tag CI {
    It 'prints no annotation line and writes no summary, even when it rolls back' {
        $null = Start-CiTestRollout -Severity Critical
        Set-BackendHealthy $false
        $summary = New-SummaryPath

        $run = Invoke-CiChild -Command $script:StepScript -Environment @{ GITHUB_STEP_SUMMARY = $summary; GITHUB_ACTIONS = 'false' }

        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Stdout | Should -Match '(?m)^ACTION=RolledBack\s*$' -Because 'the breach happened; only its CI rendering is absent'
        $run.Stdout | Should -Not -Match $script:AnyAnnotation
        $run.Stderr | Should -Not -Match $script:AnyAnnotation
        $summary | Should -Not -Exist
    }
}

Describe 'The CI examples' -Tag CI {
    BeforeAll {
        $script:GitHubExample = Join-Path $script:Repo 'examples/ci/github-actions.yml'
        $script:AzureExample = Join-Path $script:Repo 'examples/ci/azure-pipelines.yml'
        $script:Validator = Join-Path $script:Repo '.tools/node/node_modules/.bin/action-validator'

        function Read-Yaml([string] $Python, [string] $Path) {
            # PyYAML reads YAML 1.1, where a bare `on` key is the boolean true; json.dumps writes that key as "true".
            $json = & $Python -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding="utf-8")), default=str))' $Path
            if ($LASTEXITCODE) { throw "PyYAML could not parse ${Path}: $json" }
            $json | ConvertFrom-Json -AsHashtable
        }

        function Get-StepScript([string] $Path) {
            # The PowerShell a pipeline step runs: the single-quoted text after `-Command`.
            $text = Get-Content -Raw -LiteralPath $Path
            if ($text -notmatch "(?s)-Command '(.*?)'\s*(\r?\n|$)") { throw "No -Command '...' step script in $Path." }
            $Matches[1]
        }
    }

    It 'github-actions.yml passes the workflow schema check of @action-validator/cli' {
        $script:Validator | Should -Exist -Because 'build.ps1 Bootstrap installs @action-validator/cli into .tools/node (build/bootstrap/20-action-validator.sh)'
        $output = & $script:Validator $script:GitHubExample 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
    }

    It 'a broken copy of the workflow fails the same check, so the check really checks' {
        $broken = Join-Path $script:Root 'broken-workflow.yml'
        $text = Get-Content -Raw -LiteralPath $script:GitHubExample
        $text | Should -Match '(?m)^    runs-on:'
        Set-Content -LiteralPath $broken -Value ($text -replace '(?m)^    runs-on:', '    runs_on:') -NoNewline
        $output = & $script:Validator $broken 2>&1 | Out-String
        $LASTEXITCODE | Should -Not -Be 0
        $output | Should -Match 'runs-on'
        $output | Should -Match 'runs_on'
    }

    It 'github-actions.yml runs Step-FlagRollout on a schedule (<YamlCheck>)' -TestCases @($yamlCase) {
        $workflow = Read-Yaml $Python $script:GitHubExample
        $on = if ($workflow.ContainsKey('on')) { $workflow['on'] } else { $workflow['true'] }
        $on.schedule[0].cron | Should -Match '^\S+ \S+ \S+ \S+ \S+$'
        $on.ContainsKey('workflow_dispatch') | Should -BeTrue
        $steps = @($workflow.jobs.step.steps)
        @($steps | Where-Object { $_['run'] -match 'Step-FlagRollout' }).Count | Should -Be 1
        $workflow.jobs.step.env.PMS_FLAGS_LEDGER | Should -Not -BeNullOrEmpty -Because 'the ledger must outlive a run'
    }

    It 'azure-pipelines.yml is YAML with a schedule and a Step-FlagRollout step (<YamlCheck>)' -TestCases @($yamlCase) {
        $pipeline = Read-Yaml $Python $script:AzureExample
        $pipeline.trigger | Should -Be 'none'
        $pipeline.schedules[0].cron | Should -Match '^\S+ \S+ \S+ \S+ \S+$'
        $pipeline.schedules[0].always | Should -BeTrue -Because 'a rollout must be stepped even when the code did not change'
        @($pipeline.parameters | Where-Object name -EQ 'flag').default | Should -Be 'telehealth_appointments_enabled'
        $steps = @($pipeline.jobs[0].steps)
        @($steps | Where-Object { $_['script'] -match 'Step-FlagRollout' }).Count | Should -Be 1
        $pipeline.variables.PMS_FLAGS_LEDGER | Should -Not -BeNullOrEmpty
    }

    It 'the step script of <Name> is PowerShell that parses' -TestCases @(
        @{ Name = 'github-actions.yml' }
        @{ Name = 'azure-pipelines.yml' }
    ) {
        $code = (Get-StepScript (Join-Path $script:Repo "examples/ci/$Name")) -replace '\$\{\{[^}]*\}\}', 'x'
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref] $null, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $commands = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true) | ForEach-Object { $_.GetCommandName() })
        $commands | Should -Contain 'Step-FlagRollout'
        $commands | Should -Contain 'Import-Module'
    }

    It 'the GitHub step script, run as the workflow runs it, steps the rollout and fails the job after a rollback' {
        $code = Get-StepScript $script:GitHubExample
        $null = Start-CiTestRollout -Severity Critical
        $summary = New-SummaryPath
        $ci = @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary; FLAG = $script:Flag; ENVIRONMENT = 'production' }

        $healthy = Invoke-CiChild -Command $code -Environment $ci
        $healthy.ExitCode | Should -Be 0 -Because "$($healthy.Stdout)$($healthy.Stderr)"
        $healthy.Stdout | Should -Match 'Waiting'

        Set-BackendHealthy $false
        $breached = Invoke-CiChild -Command $code -Environment $ci
        $breached.ExitCode | Should -Be 1 -Because 'the workflow fails the run after a rollback'
        $breached.Stdout | Should -Match '(?m)^::error title=Rollout rolled back::'
        (Get-Content -Raw -LiteralPath $summary) | Should -Match '`production`: RolledBack'
    }

    It 'the Azure step script, with its template parameters filled in, reports a warning pause as ##vso lines' {
        $code = (Get-StepScript $script:AzureExample) -replace '\$\{\{\s*parameters\.flag\s*\}\}', $script:Flag -replace '\$\{\{\s*parameters\.environment\s*\}\}', 'production'
        $code | Should -Not -Match '\$\{\{'
        $null = Start-CiTestRollout -Severity Warning
        Set-BackendHealthy $false

        $run = Invoke-CiChild -Command $code -Environment @{ TF_BUILD = 'True' }

        $run.ExitCode | Should -Be 0 -Because 'a pause does not fail the pipeline; its warning annotation shows on the run'
        $run.Stdout | Should -Match '(?m)^##vso\[task\.logissue type=warning\]Rollout paused: '
    }
}
