<#
.SYNOPSIS
    Emergency rollback against the LaunchDarkly stand-in: how many sequential requests reach the stand-in before the flag
    is off (goal 1, never more than 2), and the module's own overhead above the stand-in's latency, warm (goal <= 50 ms).
    Baseline in the same run: the same semantic patch sent directly with HttpClient.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [string] $PwshDll, [int] $Runs = 31)
$ErrorActionPreference = 'Stop'
$dll = $env:PMS_FLAGS_TESTSERVERS
$token = 'api-bench-token'
$psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
foreach ($a in $dll, 'launchdarkly', '--token', $token) { $psi.ArgumentList.Add($a) }
$psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
$standIn = [System.Diagnostics.Process]::Start($psi)
if ($standIn.StandardOutput.ReadLine() -notmatch '^LISTENING (http://127\.0\.0\.1:\d+)$') { throw 'stand-in did not start' }
$base = $Matches[1]
$work = Join-Path ([IO.Path]::GetTempPath()) ("pms-ld-bench-" + [guid]::NewGuid())
$null = New-Item -ItemType Directory $work
try {
    Import-Module $ModulePath
    $env:PMS_FLAGS_STATE_DIR = Join-Path $work 'state'
    Connect-FlagLedger -Path (Join-Path $work 'audit.jsonl') | Out-Null
    Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey (ConvertTo-SecureString $token -AsPlainText -Force) -BaseUri $base -Environment production | Out-Null

    $client = [System.Net.Http.HttpClient]::new()
    function Send-RawTurnOff {
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Patch, "$base/api/v2/flags/pms/new-billing")
        $request.Headers.TryAddWithoutValidation('Authorization', $token) | Out-Null
        $request.Headers.TryAddWithoutValidation('LD-API-Version', '20240415') | Out-Null
        $request.Content = [System.Net.Http.StringContent]::new('{"environmentKey":"production","comment":"bench","instructions":[{"kind":"turnFlagOff"}]}')
        $request.Content.Headers.ContentType = [System.Net.Http.Headers.MediaTypeHeaderValue]::Parse('application/json; domain-model=launchdarkly.semanticpatch')
        $response = $client.Send($request)
        if (-not $response.IsSuccessStatusCode) { throw "raw PATCH failed: $($response.StatusCode)" }
    }
    function Reset-On { $null = Invoke-RestMethod -Method Post "$base/_control/reset" }

    # Requests before the flag is off: everything the stand-in saw up to and including the first PATCH.
    Reset-On
    $null = Invoke-RestMethod -Method Delete "$base/_control/requests"
    $null = Invoke-EmergencyRollback -Flag new-billing -Reason 'bench' -Force
    $requests = @((Invoke-RestMethod "$base/_control/requests").items)
    $firstPatch = [array]::FindIndex([object[]]$requests, [Predicate[object]] { param($r) $r.method -eq 'PATCH' })
    'emergency rollback: {0} sequential request(s) before the flag was off (goal 1, never more than 2); {1} request(s) in all (audit read-back included)' -f ($firstPatch + 1), $requests.Count

    foreach ($i in 1..5) { Reset-On; Send-RawTurnOff; Reset-On; $null = Invoke-EmergencyRollback -Flag new-billing -Reason 'warm-up' -Force }
    $raw = foreach ($i in 1..$Runs) { Reset-On; $sw = [Diagnostics.Stopwatch]::StartNew(); Send-RawTurnOff; $sw.Elapsed.TotalMilliseconds }
    # From the moment the command is invoked (parameter binding included) to the moment the store confirmed the flag off.
    $module = foreach ($i in 1..$Runs) { Reset-On; $start = [DateTimeOffset]::UtcNow; ((Invoke-EmergencyRollback -Flag new-billing -Reason 'bench' -Force).FlagOffAt - $start).TotalMilliseconds }
    $whole = foreach ($i in 1..$Runs) { Reset-On; $sw = [Diagnostics.Stopwatch]::StartNew(); $null = Invoke-EmergencyRollback -Flag new-billing -Reason 'bench' -Force; $sw.Elapsed.TotalMilliseconds }
    $median = { param($v) ($v | Sort-Object)[[int]([Math]::Floor($v.Count / 2))] }
    $rawMedian = & $median $raw; $moduleMedian = & $median $module; $wholeMedian = & $median $whole
    'raw semantic PATCH (baseline): median {0:N1} ms' -f $rawMedian
    'Invoke-EmergencyRollback, invocation to flag off: median {0:N1} ms; module overhead above the stand-in {1:N1} ms (goal <= 50 ms)' -f $moduleMedian, ($moduleMedian - $rawMedian)
    'whole command (off + audit + verify read): median {0:N1} ms' -f $wholeMedian
}
finally {
    try { $null = Invoke-RestMethod -Method Post "$base/_control/shutdown" } catch { }
    if (-not $standIn.WaitForExit(10000)) { $standIn.Kill() }
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
