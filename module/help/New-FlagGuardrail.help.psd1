@{
    Synopsis     = 'Defines a guardrail -- a Prometheus condition, a health endpoint, or a comparison of the exposed cohort with the rest -- that a progressive rollout must pass before it advances.'
    Description  = @'
New-FlagGuardrail returns a guardrail definition for Start-FlagRollout -Guardrail and Test-FlagGuardrail. It measures
nothing and changes nothing. A rollout stores its guardrails' definitions in its rollout_started ledger event, so any
process on any agent rebuilds the same checks from the ledger alone; for that reason a URL that carries credentials
(https://user:password@host) is refused with GuardrailUrlInvalid.

There are three kinds. The presets are the playbook's two Prometheus alerts ("Alert Thresholds"), exactly:

  -Preset HighErrorRate      rate(http_requests_total{status=~"5.."}[5m]) > 0.05, for 2m, severity critical.
  -Preset SlowResponseTime   histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2, for 5m, severity warning.
  -Name -Query ...           a custom PromQL condition: -Operator (>, >=, <, <= or GreaterThan, GreaterOrEqual, LessThan, LessOrEqual) -Threshold [-For] [-Severity].
  -HealthUrl                 a health endpoint: a GET must answer 2xx (and, with -MaximumLatencySeconds, that fast); the measured value is the response time in seconds.
  -Cohort CohortErrorRate    the exposed cohort's 5xx share against the unexposed users', by a sequential test (see below).
  -Cohort CohortSlowRequests the same for requests slower than 2 s (the histogram's le="2" bucket against its count).
  -Name -BadQuery -TotalQuery  a custom cohort comparison: PromQL for bad and for all requests, each grouped by the variant label.

Cohort guardrails: seeing the 5 % a rollout exposes. A threshold on the global error rate cannot see a feature that
fails only its cohort: at 5 % exposure, a feature failing 10 % of its requests moves a 0.5 % global error ratio to about
1 %, far under any sensible alert. A cohort guardrail compares the requests that got the treatment variant with those
that got the control variant, using the labels OpenTelemetry's feature-flag semantic conventions define
(feature_flag.key and feature_flag.result.variant, spelled feature_flag_key and feature_flag_result_variant by the
Prometheus exporter; -FlagLabel and -VariantLabel name others). CohortErrorRate sends
  sum by (feature_flag_result_variant) (increase(http_requests_total{feature_flag_key="<flag>",status=~"5.."}[<window>]))
  sum by (feature_flag_result_variant) (increase(http_requests_total{feature_flag_key="<flag>"}[<window>]))
and CohortSlowRequests the same over http_request_duration_seconds_count minus its le="2" bucket. Custom queries may
use $window and $flag, which are filled in at each evaluation. In a rollout the window is the time since the current
stage reached users, so each stage's test sees one growing sample; outside a rollout (Test-FlagGuardrail, the check
before a rollout starts) it is -Window.

The decision is Wald's sequential probability ratio test (A. Wald, "Sequential Tests of Statistical Hypotheses", Annals
of Mathematical Statistics 16(2), 1945) on the conditional binomial: given that a request was bad, it came from the
exposed cohort with probability s under "no difference" (s = the exposed share of requests) and with probability
s(1+d)/(s(1+d)+1-s) if the exposed cohort's rate is (1+d) times control's, d = the -MinimumRelativeRegression. The
statistic is the log likelihood ratio of the bad counts; the guardrail breaches when it reaches ln(1/-FalseAlarmRate)
(3.0 for 5 %). The test is always valid: under "no difference" the likelihood ratio is a non-negative martingale, so
by Ville's inequality the chance that it EVER reaches 1/alpha is at most alpha -- a rollout may evaluate it at every
poll without inflating false alarms (a fixed-sample test checked at every poll would). The interval reported beside
the estimate is Robbins' mixture confidence sequence (H. Robbins, Annals of Mathematical Statistics 41(5), 1970), valid
at every look too. The false-alarm rate holds per stage (counting restarts with each stage).

Verdicts: Breached when the test concludes the exposed cohort is worse; while either cohort has fewer than
-MinimumSamples requests, Pending inside a rollout stage whose bake still runs (the rollout waits for evidence; it never
advances on it) and NoData otherwise -- at the end of the bake, or outside a rollout -- where -NoData decides (Pause by
default); Healthy otherwise. At a 100 % stage there is no unexposed cohort left: the guardrail reports "not applicable"
(healthy, not counted) and the threshold guardrails judge that stage. The ledger's guardrail_evaluated events carry
the evidence: requests and bad requests per cohort, both rates, the estimate (rate_T / rate_C - 1) and its interval,
the statistic and its threshold. In a rollout the rollout's flag fills -Flag; standalone it is required.

How a Prometheus guardrail is judged. The query is the alert expression's left-hand side, sent as an instant query to
<PrometheusUrl>/api/v1/query; the comparison with the threshold is made per series, as Prometheus' rule evaluation does.
A query that returns several series -- the playbook's expressions are not aggregated, so they return one series per
status code, handler and instance -- breaches when ANY series breaches, exactly as the matching alert would fire, and
the evidence names the series and its value. The query must return an instant vector or a scalar; anything else, and
any query Prometheus answers with bad_data or execution (malformed PromQL), is PrometheusQueryRejected.

-For works like an alert's "for": the condition must hold at every evaluation from its first sighting until it has held
for -For; until then the guardrail is Pending (a rollout waits, it does not advance). An evaluation in which the series
no longer meets the condition resets it; an evaluation that measured nothing (Prometheus unreachable, traffic below the
minimum) neither starts nor resets the count, as a failed rule evaluation leaves an alert alone. The tracking is
recorded with every guardrail_evaluated event, so the count continues across Step-FlagRollout runs in different
processes. Because a rollout evaluates only when it is stepped, a breach is noticed at the first step after it has held
for -For: step more often than -For (every minute for the presets) to keep detection fast.

Severity decides what a breach does: Critical rolls the rollout back at once (flag off first, through the emergency
rollback path); Warning pauses it until someone runs Resume-FlagRollout.

No data is never a silent pass. An empty result, only NaN samples, traffic below -MinimumTraffic, or an unreachable
source mean "cannot judge", and -NoData says what that means:
  Pause (default)  the rollout pauses; nothing advances blind.
  Fail             no data counts as a breach of the guardrail's severity (Critical rolls back, Warning pauses).
  Pass             no data counts as healthy -- but an unreachable or failing Prometheus or health endpoint still pauses, because "no samples" says nothing happened while "no answer" says nothing at all.

Mind the playbook's error-rate expression. HighErrorRate is 5xx responses PER SECOND per series, not a ratio: 0.05 is
three errors a minute on one handler, whatever the traffic. And the series only exist once a 5xx has been counted, so on
a healthy service the query returns no series at all -- which the default policy reads as no data and pauses. Give the
guardrail a traffic check: with -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1, an empty
error result while traffic is above the minimum counts as healthy (no request failed), and traffic below the minimum
does not count at all. For a real error ratio, write a custom guardrail (see the examples).

A deployment guardrail (Kubernetes pods ready, no new restarts) will be a further kind of definition with the
Kubernetes work; rollouts already treat guardrails generically.
'@
    Parameters   = @{
        AlertmanagerUrl       = 'An Alertmanager to ask which alerts are firing (parameter set Alertmanager), for example http://alertmanager.monitoring:9093. The guardrail reads GET /api/v2/alerts (active, not silenced, not inhibited) and breaches while the alert named by -AlertName is among them, so a team''s existing alert rules guard a rollout without restating their PromQL.'
        AlertName             = 'The alertname label of the Alertmanager alert that breaches this guardrail while it fires, for example HighErrorRate. It is also the guardrail''s name unless -Name is given.'
        Matcher               = 'Further label equalities a firing alert must carry to count, as a hashtable such as @{ service = ''pms-api''; environment = ''production'' }, so an alert of another service does not stop this rollout.'
        Deployment            = 'A Kubernetes deployment as the guardrail (parameter set Deployment): healthy while every desired pod is ready and no container restarted since the stage began (without a stage start: within the last 15 minutes). One series per pod.'
        Namespace             = 'The deployment''s namespace (default pms).'
        KubeConfig            = 'The kubeconfig the deployment guardrail uses; default resolution (KUBECONFIG, ~/.kube/config, in-cluster) when omitted. Stored as a path, never credentials.'
        KubeContext           = 'The kubeconfig context the deployment guardrail uses.'

        Preset                = 'One of the playbook''s alerts: HighErrorRate (5xx per second > 0.05 for 2 minutes, Critical) or SlowResponseTime (p95 latency > 2 s for 5 minutes, Warning). The name, query, threshold, For and severity are fixed to the playbook''s values; write a custom guardrail with -Name and -Query to change them.'
        PrometheusUrl         = 'The base URL of the Prometheus server (or of a reverse-proxy path in front of it), for example http://prometheus.monitoring:9090. The guardrail queries <PrometheusUrl>/api/v1/query. Must be absolute http or https and must not contain a user name or password: the URL is written to the audit ledger.'
        Name                  = 'The guardrail''s name, unique within a rollout (two with one name fail with GuardrailNameDuplicate). It identifies the guardrail in every evaluation event, in annotations and in the job summary. Required for a custom Prometheus guardrail; for a health guardrail it defaults to "Health <host:port><path>".'
        Query                 = 'The PromQL whose value is compared with -Threshold: the left-hand side of an alert expression, for example rate(http_requests_total{status=~"5.."}[5m]). It must return an instant vector or a scalar. Every returned series is compared on its own; the guardrail breaches when any series does.'
        Operator              = 'How the value is compared with -Threshold, in the playbook''s notation or by name: > or GreaterThan (the condition holds when value > threshold, as in the playbook''s alerts), >= or GreaterOrEqual, < or LessThan, <= or LessOrEqual (for "too low" conditions such as a success ratio or throughput). Anything else is GuardrailOperatorInvalid. NaN never meets the condition, as in PromQL. For < and <= an empty result is always no data, never healthy.'
        Threshold             = 'The value the query is compared with, in the query''s unit (requests per second, seconds, a ratio). Must be a finite number, else GuardrailThresholdInvalid.'
        For                   = 'How long the condition must hold across consecutive evaluations before it breaches, like an alert''s "for" (a TimeSpan such as 00:02:00). Until then the guardrail is Pending and the rollout waits. Default 0: a single evaluation that meets the condition is a breach. Negative values fail with GuardrailForNegative.'
        Severity              = 'What a breach does: Critical (default) rolls the rollout back at once, switching the flag off first; Warning pauses the rollout until Resume-FlagRollout.'
        HealthUrl             = 'A health endpoint to probe with GET, for example https://api.pms.example.com/health (the playbook''s "Run health checks"). Any status outside 2xx meets the condition; a connection that fails or times out is an error, which the -NoData policy governs. The response time, in seconds, is reported as the measured value.'
        MaximumLatencySeconds = 'For a health guardrail: the slowest acceptable response, in seconds (positive). A 2xx answer slower than this meets the condition too. Without it, only the status code counts.'
        NoData                = 'What an evaluation that cannot judge means: Pause (default: the rollout pauses, never a silent advance), Fail (it counts as a breach of the guardrail''s severity) or Pass (it counts as healthy, except that an unreachable source still pauses). "Cannot judge" is an empty result, only NaN samples, traffic below -MinimumTraffic, or an unreachable or failing source.'
        MinimumTrafficQuery   = 'A PromQL query for the traffic the guardrail needs before its verdict counts, for example sum(rate(http_requests_total[5m])) (requests per second). The values of all returned series are added up. Below -MinimumTraffic the evaluation is no data and does not touch the For count; at or above it, an empty result of a GreaterThan query counts as healthy (nothing matched, for example no 5xx at all). Must be given together with -MinimumTraffic, else GuardrailMinimumTrafficInvalid.'
        Cohort                = 'A cohort comparison: CohortErrorRate (5xx over all requests per variant) or CohortSlowRequests (requests slower than 2 s, from the latency histogram''s le="2" bucket, over all requests per variant). The name defaults to the metric''s name.'
        BadQuery              = 'For a custom cohort guardrail: PromQL for the bad requests per variant, grouped by the variant label, for example sum by (feature_flag_result_variant) (increase(checkout_failures_total{feature_flag_key="$flag"}[$window])). $window is replaced by the counting window (e.g. 754s), $flag by the flag key. A result series without the variant label is CohortVariantLabelMissing.'
        TotalQuery            = 'For a custom cohort guardrail: PromQL for all requests per variant, grouped by the variant label like -BadQuery.'
        Flag                  = 'The flag whose cohorts are compared (its key as the feature_flag_key label carries it). In a rollout the rollout''s flag fills it in; standalone (Test-FlagGuardrail) it is required, else CohortFlagRequired.'
        FlagLabel             = 'The label that carries the flag key. Default feature_flag_key (OpenTelemetry''s feature_flag.key as the Prometheus exporter spells it). Must be a Prometheus label name, else CohortLabelInvalid.'
        VariantLabel          = 'The label that carries the variant a request got. Default feature_flag_result_variant (OpenTelemetry''s feature_flag.result.variant). Must be a Prometheus label name, else CohortLabelInvalid.'
        Treatment             = 'The variant exposed requests carry. Default true. A value that never appears while other values do is CohortTreatmentNotFound.'
        Control               = 'The variant unexposed requests carry. Default false. Must differ from -Treatment (CohortVariantsInvalid).'
        Window                = 'How far back a cohort guardrail counts when it is not inside a rollout stage (Test-FlagGuardrail, the check before a rollout starts). Default 5 minutes; at least 1 second (GuardrailWindowInvalid). Inside a stage it counts from the stage''s start instead.'
        MinimumRelativeRegression = 'The relative regression the sequential test is tuned to detect: 0.5 (default) means a bad rate 50 % above control''s. Larger values conclude faster on large regressions and miss small ones. Must be above 0 and at most 100, else GuardrailMinimumRegressionInvalid.'
        FalseAlarmRate        = 'The chance that the guardrail breaches a stage in which the exposed cohort is in fact no worse than control, however often it is evaluated. Default 0.05; must be above 0 and at most 0.5, else GuardrailFalseAlarmRateInvalid.'
        MinimumSamples        = 'The requests each cohort needs before the test may conclude anything. Default 500; at least 1 (GuardrailMinimumSamplesInvalid). Fewer is Pending while the stage''s bake runs and NoData after it.'
        MinimumTraffic        = 'The least traffic, in the unit of -MinimumTrafficQuery, for which the guardrail''s verdict counts, for example 1 (one request per second). Zero or more; must be given together with -MinimumTrafficQuery.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Guardrails.GuardrailDefinition' = 'The definition: Name, Kind (Prometheus, HttpHealth or Cohort), Preset (for a cohort guardrail its metric), Severity, NoData, For, PrometheusUrl, Query, Operator, Threshold, MinimumTrafficQuery, MinimumTraffic, HealthUrl; for a cohort guardrail Flag, FlagLabel, VariantLabel, Treatment, Control, Window, MinimumRelativeRegression, FalseAlarmRate, MinimumSamples, BadQuery and TotalQuery; and Expression (the condition as an alert rule would write it, or what a cohort guardrail compares). Pass it to Start-FlagRollout -Guardrail or Test-FlagGuardrail.'
    }
    Examples     = @(
        @{
            Title   = 'Guard a rollout with the Kubernetes deployment'
            Code    = 'New-FlagGuardrail -Deployment pms-backend -Namespace pms | Test-FlagGuardrail'
            Remarks = 'One series per pod; a pod that is not ready or whose container restarted breaches.'
        }
        @{
            Title   = 'The playbook''s two alerts as guardrails'
            Code    = @'
$prometheus = 'http://prometheus.monitoring:9090'
$guardrails = @(
    New-FlagGuardrail -Preset HighErrorRate -PrometheusUrl $prometheus -MinimumTrafficQuery 'sum(rate(http_requests_total[5m]))' -MinimumTraffic 1
    New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl $prometheus
)
$guardrails
'@
            Remarks = 'HighErrorRate gets a traffic check: its query returns no series until the first 5xx is counted, which without a traffic check reads as no data and pauses the rollout. With it, "no 5xx series while at least 1 request/s flows" is healthy.'
        }
        @{
            Title   = 'A real error ratio instead of errors per second'
            Code    = @'
New-FlagGuardrail -Name ErrorRatio -PrometheusUrl http://prometheus.monitoring:9090 `
    -Query '(sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total[5m]))' `
    -Operator GreaterThan -Threshold 0.05 -For 00:02:00 -Severity Critical
'@
            Remarks = 'More than 5% of all requests failing for two minutes rolls back. "or vector(0)" makes "no 5xx yet" a ratio of 0 instead of an empty result; with no traffic at all the division is empty, which is no data (Pause by default).'
        }
        @{
            Title   = 'Catch a regression confined to the 5 % a rollout exposes'
            Code    = @'
$prometheus = 'http://prometheus.monitoring:9090'
$guardrails = @(
    New-FlagGuardrail -Cohort CohortErrorRate -PrometheusUrl $prometheus
    New-FlagGuardrail -Cohort CohortSlowRequests -PrometheusUrl $prometheus -Severity Warning
    New-FlagGuardrail -Name ErrorRatio -PrometheusUrl $prometheus -Operator '>' -Threshold 0.05 -For 00:02:00 `
        -Query '(sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total[5m]))'
)
Start-FlagRollout -Flag telehealth_appointments_enabled -Environment production -Stages 5, 25, 50, 100 -BakeTime 00:30:00 `
    -Guardrail $guardrails -Reason 'Gradual rollout' -ApprovalTicket TICKET-12345
'@
            Remarks = 'The cohort guardrails compare exposed with unexposed requests at every stage (the rollout fills in its flag); the ratio guardrail judges the whole service, including the 100 % stage where no unexposed cohort is left.'
        }
        @{
            Title   = 'A custom cohort comparison with your own metric and labels'
            Code    = @'
New-FlagGuardrail -Name CheckoutFailures -PrometheusUrl http://prometheus.monitoring:9090 -Flag new_billing_engine `
    -VariantLabel variant -Treatment on -Control off -MinimumRelativeRegression 0.25 -FalseAlarmRate 0.01 `
    -BadQuery 'sum by (variant) (increase(checkout_failures_total{flag="$flag"}[$window]))' `
    -TotalQuery 'sum by (variant) (increase(checkout_attempts_total{flag="$flag"}[$window]))' | Test-FlagGuardrail | Format-List Status, Reason, Evidence
'@
            Remarks = 'Tuned for a 25 % relative regression with a 1 % false-alarm rate. Test-FlagGuardrail counts over -Window (5 minutes) and shows both cohorts, the estimate with its interval and the statistic against its threshold.'
        }
        @{
            Title   = 'A health-endpoint guardrail that pauses instead of rolling back'
            Code    = 'New-FlagGuardrail -HealthUrl https://api.pms.example.com/health -MaximumLatencySeconds 1.5 -Severity Warning'
            Remarks = 'A non-2xx answer, or one slower than 1.5 s, pauses the rollout. An unreachable endpoint pauses too (the default -NoData Pause).'
        }
        @{
            Title   = 'Check a guardrail before relying on it'
            Code    = 'New-FlagGuardrail -Preset SlowResponseTime -PrometheusUrl http://prometheus.monitoring:9090 | Test-FlagGuardrail'
            Remarks = 'Shows the current value, the threshold and the status (Healthy, Pending, Breached, NoData or Error) before a rollout depends on it.'
        }
        @{
            Title   = 'Let an existing Alertmanager alert guard the rollout'
            Code    = 'New-FlagGuardrail -AlertmanagerUrl http://alertmanager.monitoring:9093 -AlertName HighErrorRate -Matcher @{ service = ''pms-api'' }'
            Remarks = 'Breaches while HighErrorRate fires for service pms-api in Alertmanager (a critical guardrail: the rollout rolls back).'
        }
    )
    Notes        = @'
Error ids (the fully qualified id is "<id>,PMS.Flags.Cmdlets.Commands.NewFlagGuardrailCommand"): GuardrailUrlInvalid
(not absolute http(s), or credentials in the URL), GuardrailNameRequired, GuardrailQueryRequired,
GuardrailThresholdInvalid, GuardrailForNegative, GuardrailMinimumTrafficInvalid, GuardrailDefinitionInvalid,
GuardrailOperatorInvalid (an -Operator other than >, >=, <, <= and their names); for cohort guardrails
GuardrailFalseAlarmRateInvalid, GuardrailMinimumRegressionInvalid, GuardrailMinimumSamplesInvalid, GuardrailWindowInvalid,
CohortLabelInvalid, CohortVariantsInvalid, CohortQueryRequired. A bad -Preset, -Cohort, -Severity or -NoData value is
refused by parameter validation (ParameterArgumentValidationError). Raised when a cohort guardrail is evaluated
(Test-FlagGuardrail; Start-FlagRollout refuses to start, changing nothing): CohortFlagRequired, CohortVariantLabelMissing,
CohortTreatmentNotFound, CohortControlNotFound. Inside a running stage the last three make the guardrail blind (status
Error, governed by -NoData) instead.
PrometheusQueryRejected is raised by Test-FlagGuardrail and Start-FlagRollout, which ask Prometheus; this command does not.

Defaults, stated once: -NoData Pause, -Severity Critical, -For 0, no traffic check. None of them lets one bad sample
advance a rollout, and with -For 0 a single bad sample of a Critical guardrail rolls back -- give noisy conditions a -For.
'@
    RelatedLinks = @('about_PMS.Flags', 'Test-FlagGuardrail', 'Start-FlagRollout', 'Step-FlagRollout')
}
