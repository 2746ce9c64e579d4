#Requires -Version 7.4
# Who is recorded: -User, else GITHUB_ACTOR, else BUILD_REQUESTEDFOREMAIL, else the OS user.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PesterHelpers.ps1')
    $script:savedEnvironment = Save-PmsEnvironment
}

AfterAll {
    Restore-PmsEnvironment $script:savedEnvironment
}

Describe 'The acting user' -Tag Identity {
    BeforeEach {
        $sandbox = New-FlagSandbox
        $env:GITHUB_ACTOR = $null
        $env:BUILD_REQUESTEDFOREMAIL = $null
    }
    AfterEach {
        $env:GITHUB_ACTOR = $null
        $env:BUILD_REQUESTEDFOREMAIL = $null
        Remove-FlagSandbox $sandbox
    }

    It '<Name> -> <Expected>' -ForEach @(
        @{ Name = '-User beats the CI variables'; GitHubActor = 'octocat'; AzureRequester = 'dev@pms.example.com'; User = 'admin@pms.example.com'; Expected = 'admin@pms.example.com' }
        @{ Name = 'GITHUB_ACTOR beats BUILD_REQUESTEDFOREMAIL'; GitHubActor = 'octocat'; AzureRequester = 'dev@pms.example.com'; Expected = 'octocat' }
        @{ Name = 'BUILD_REQUESTEDFOREMAIL alone'; AzureRequester = 'dev@pms.example.com'; Expected = 'dev@pms.example.com' }
        @{ Name = 'a blank GITHUB_ACTOR is ignored'; GitHubActor = '   '; AzureRequester = 'dev@pms.example.com'; Expected = 'dev@pms.example.com' }
        @{ Name = 'surrounding spaces are trimmed'; User = '  admin@pms.example.com '; Expected = 'admin@pms.example.com' }
        @{ Name = 'the OS user when nothing else is set'; Expected = [Environment]::UserName }
    ) {
        if ($GitHubActor) { $env:GITHUB_ACTOR = $GitHubActor }
        if ($AzureRequester) { $env:BUILD_REQUESTEDFOREMAIL = $AzureRequester }
        $parameters = @{ Flag = 'new_scheduler'; Environment = 'staging'; Percentage = 40; Reason = 'identity' }
        if ($User) { $parameters.User = $User }

        $record = Set-FlagPercentage @parameters
        $record.User | Should -Be $Expected
        (Get-FlagAudit -First 1).UserId | Should -Be $Expected
        (Read-LedgerLine $sandbox.LedgerPath)[0].user_id | Should -Be $Expected
    }

    It 'is recorded by every changing cmdlet, rollbacks included' {
        $env:GITHUB_ACTOR = 'octocat'
        $null = Enable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -Force
        $null = Disable-Flag -Flag telehealth_appointments_enabled -Environment staging -Reason 'r' -Force
        $null = Invoke-EmergencyRollback -Flag new_scheduler -Environment staging -Reason 'r' -Force
        $events = @(Get-FlagAudit)
        $events.Count | Should -Be 4
        $events.UserId | Select-Object -Unique | Should -Be 'octocat'
    }
}
