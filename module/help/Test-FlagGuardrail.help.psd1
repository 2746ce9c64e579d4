@{
    Synopsis     = 'Evaluates guardrails now and returns each measured value beside its threshold, without touching any rollout.'
    Description  = @'
Test-FlagGuardrail measures each guardrail once -- an instant query to Prometheus, or a GET of the health endpoint --
and returns what a rollout step would see: the status, the worst value across the series, the threshold, every series
with its labels and value, and a one-line Evidence an auditor can read. It changes nothing and records nothing in the
ledger; use it to check a guardrail before a rollout depends on it, or during an incident to see the numbers.

Status is one of:
  Healthy   the condition does not hold for any series (for a health check: 2xx, fast enough).
  Pending   the condition holds now but has not yet held for the guardrail's -For duration.
  Breached  the condition holds for at least one series and has held for -For (at once when -For is 0).
  NoData    nothing to judge: an empty result, only NaN samples, or traffic below the minimum.
  Error     the source could not be asked: unreachable, timed out, or an answer that is not Prometheus'.

A single Test-FlagGuardrail call has no earlier evaluations to build on, so a guardrail with -For greater than zero is at
most Pending here: the For count runs across the evaluations of a rollout (see New-FlagGuardrail). Value is the worst
series -- the highest for GreaterThan, the lowest for LessThan -- and Series lists all of them, since the guardrail
breaches when any one does.

A cohort guardrail (New-FlagGuardrail -Cohort) counts over its -Window here (a rollout counts from the stage's start)
and its result carries Cohort: requests and bad requests per cohort, both rates, the treatment's share, the estimated
relative regression (rate_T / rate_C - 1) with its always-valid interval, the test statistic (the log likelihood ratio)
and its threshold ln(1/FalseAlarmRate), the method and both queries. Value is the statistic and ThresholdText its
threshold (">= 2.9957" for 5 %); Reason is a one-line summary such as "true 10.5% (210/2000) vs false 0.5% (190/38000);
+2000% [+900%, +4000%]; LLR 64.12 of 3.00". With fewer requests than -MinimumSamples in a cohort it is NoData. A result
without the variant label, or with variants other than -Treatment and -Control while one of those is missing, is a
terminating error (CohortVariantLabelMissing, CohortTreatmentNotFound, CohortControlNotFound), and so is a cohort
guardrail without -Flag (CohortFlagRequired): those guardrails need fixing.

Each HTTP call is retried on connection faults, timeouts and 429, and a Prometheus call also on 5xx (three attempts,
10 s each, with backoff), so one evaluation of a dead source ends in about half a minute with status Error rather than
hanging. A health endpoint's 5xx is not retried: it is the measurement. A query Prometheus
itself rejects (malformed PromQL, bad_data or execution errors, or a range vector at the top level) is not a status but
a terminating error, PrometheusQueryRejected: that guardrail needs fixing.
'@
    Parameters   = @{
        Guardrail = 'The guardrails to evaluate, from New-FlagGuardrail. Accepts pipeline input by value; an array is evaluated one guardrail after another, one result each. A rollout''s own guardrails are in (Get-FlagRollout -RolloutId <id>).Plan.Guardrails.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Guardrails.GuardrailResult' = 'One per guardrail: Guardrail, Kind, Severity, Status (Healthy, Pending, Breached, NoData, Error), Value (the worst series), ThresholdText, Threshold, Operator, For, NoData, Series (Labels, RawValue, Value, ConditionMet, ActiveSince, Firing), BreachingSeries, Query, Expression, Reason (why NoData or Error, the HTTP status of a health check, or a cohort guardrail''s summary), Traffic, MinimumTraffic, Counted, EvaluatedAt, Latency, Warnings, Cohort (a cohort guardrail''s evidence; see the description) and Evidence.'
    }
    Examples     = @(
        @{
            Title   = 'See the playbook''s alerts against live numbers'
            Code    = @'
$prometheus = 'http://prometheus.monitoring:9090'
New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheus -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1 |
    Test-FlagGuardrail
New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $prometheus | Test-FlagGuardrail | Select-Object -ExpandProperty Series
'@
            Remarks = 'The table shows Guardrail, Severity, Status, Value, Threshold, the number of series, the latency of the measurement and the reason. The second command lists p95 latency per series.'
        }
        @{
            Title   = 'Re-check the guardrails of a running rollout'
            Code    = @'
$rollout = Get-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Active
Test-FlagGuardrail -Guardrail $rollout.Plan.Guardrails | Format-List Guardrail, Status, Value, ThresholdText, Evidence
'@
            Remarks = 'Evaluates exactly the checks the rollout uses, without recording anything; Step-FlagRollout would record the same measurement.'
        }
        @{
            Title   = 'Probe a health endpoint'
            Code    = 'Test-FlagGuardrail (New-FlagGuardrail -HealthUrl https://api.pms.example.com/health)'
            Remarks = 'Reason says, for example, "HTTP 200 OK in 0.042 s"; Value is the response time in seconds.'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.TestFlagGuardrailCommand"):
PrometheusQueryRejected (terminating: Prometheus rejected the query, or it does not return an instant vector or a
scalar), GuardrailUrlInvalid and the other Guardrail* validation ids for a definition that was altered after
New-FlagGuardrail. An unreachable Prometheus or health endpoint is not an error: the result has status Error and a Reason.
'@
    RelatedLinks = @('about_PMS.Flags', 'New-FlagGuardrail', 'Start-FlagRollout', 'Step-FlagRollout')
}
