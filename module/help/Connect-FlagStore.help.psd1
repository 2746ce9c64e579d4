@{
    Synopsis     = 'Connects the session to a flag store -- a feature_flags.json document or a LaunchDarkly project -- so the flag cmdlets know where flags live.'
    Description  = @'
Connect-FlagStore opens a local flag document -- the apps/backend/config/feature_flags.json of the feature-flag
migration playbook -- checks that it parses, and makes it the session's default store. Every flag cmdlet (Get-Flag,
Set-FlagPercentage, Enable-Flag, Disable-Flag, Invoke-EmergencyRollback) then uses it unless you pass -Store.

The document maps environments to flags: { "production": { "flag": false } }. It is read strictly (RFC 8259: no
comments, trailing commas, single quotes or unquoted keys), by reads and writes alike, so a document a change would
refuse is refused when connecting. Top-level keys that are not environments (a name starting with _ or $, such as
"_meta", or a value that is not an object) are skipped and kept as they are; -Verbose names them. A flag that is fully off is false, fully
on is true, and a partial rollout is { "enabled": true, "rollout_percentage": 25 }. PMS.Flags changes exactly one
flag in one environment per write and leaves every other byte of the document (other flags, other environments, key
order, extra keys such as "owner") as it was. Writes are atomic (temporary file and rename) and serialised across
processes by a lock file beside the document, so two operators or pipelines never lose each other's change. A
document that does not parse is refused and left byte-identical.

With -Environment, the named environment becomes the default for commands that do not pass -Environment; it must
exist in the document. Environments named in -ProtectedEnvironment (production, unless you say otherwise) require
-ApprovalTicket for every change except switching a flag off.

With -LaunchDarkly, the store is a LaunchDarkly project (the playbook's Option A). The access token comes from -ApiKey
(a SecureString) or, when that is not given, from the LD_API_KEY environment variable. It is held as a SecureString,
sent only over https (a loopback -BaseUri for tests is the one exception), and never appears in output, verbose or
debug messages, errors, the ledger or the store object. Connecting reads the project's environments, which checks the
token and the project key at once. A flag's percentage is the weight of its true variation in the fallthrough rollout
(or in a rule, with -Rule on Set-FlagPercentage); each change is one semantic patch. Only boolean flags are managed.

When no store is connected, the flag cmdlets fall back to ./apps/backend/config/feature_flags.json under the current
location if that file exists, and otherwise fail with the error NoFlagStore.
'@
    Parameters   = @{
        ConfigMap       = 'Connect to the flag document in a Kubernetes ConfigMap (playbook Option B). A change edits one flag with the same byte-preserving editor as the local file, replaces the ConfigMap with its resourceVersion (re-reading and re-applying only that change on 409 Conflict, at most 5 times), then restarts the deployment and waits until its new pods are ready; rollouts bake from that moment.'
        Namespace       = 'The ConfigMap''s and deployment''s namespace (default pms).'
        Name            = 'The ConfigMap (default feature-flags-config).'
        Key             = 'The ConfigMap key holding the JSON document (default feature_flags.json).'
        Deployment      = 'The deployment restarted after each change so its pods read it (default pms-backend).'
        NoRestart       = 'Change the ConfigMap only; the pods keep serving the old values until they restart.'
        RolloutTimeout  = 'How long a change waits for the restarted pods to be ready (default 10 minutes); on timeout or ProgressDeadlineExceeded the error says the ConfigMap holds the new value and the pods do not yet.'
        KubeConfig      = 'The kubeconfig; default KUBECONFIG, then ~/.kube/config, then the in-cluster service account.'
        KubeContext     = 'The kubeconfig context to use instead of its current-context (the cluster, user and namespace it names); KubeContextNotFound when the kubeconfig has no such context.'

        Path                 = 'The flag document to use, for example ./apps/backend/config/feature_flags.json. A relative path is resolved against the current PowerShell location. The file must exist and be a JSON object of environments; otherwise the command fails with FlagDocumentNotFound or FlagDocumentMalformed and nothing is connected.'
        Environment          = 'The environment that commands use when they are not given -Environment, for example staging. It must be one of the document''s top-level keys, or the command fails with EnvironmentNotFound. Without it, Get-Flag lists every environment and the changing cmdlets require -Environment.'
        ProtectedEnvironment = 'The environments in which every change except switching a flag off requires -ApprovalTicket (the HIPAA change-control rule of the playbook). Defaults to production. Matching is case-insensitive.'
        LaunchDarkly         = 'Connects to a LaunchDarkly project instead of a local document. Use it with -ProjectKey, and -ApiKey or the LD_API_KEY environment variable.'
        ProjectKey           = 'The LaunchDarkly project key, for example pms. An unknown project fails with ProjectNotFound.'
        ApiKey               = 'The LaunchDarkly access token as a SecureString, for example from Read-Host -AsSecureString or a secret store. When omitted, the token is read from the LD_API_KEY environment variable; with neither the command fails with LaunchDarklyTokenMissing. A rejected token fails with LaunchDarklyUnauthorized.'
        BaseUri                = 'The LaunchDarkly instance, https://app.launchdarkly.com by default (federal and EU instances have other hosts). Plain http is refused with InsecureBaseUri unless the host is loopback.'
        TimeoutSec           = 'The time budget in seconds for one operation against LaunchDarkly, retries and rate-limit waits included (default 30). When it runs out the command fails with LaunchDarklyBudgetExhausted, saying whether the change was made.'
        NoDefault            = 'Returns the store object without making it the session''s default store. Use it to work with a second document side by side: pass the object to -Store.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Flags.LocalFileFlagStore' = 'The connected store: Kind (LocalFile), Name, Path, DefaultEnvironment and ProtectedEnvironments. Pass it to -Store of any flag cmdlet.'
        'PMS.Flags.Engine.Flags.LaunchDarkly.LaunchDarklyFlagStore' = 'The connected LaunchDarkly store: Kind (LaunchDarkly), Name, ProjectKey, BaseUri, Budget, DefaultEnvironment and ProtectedEnvironments. It holds no readable secret.'
        'PMS.Flags.Engine.Kubernetes.ConfigMapFlagStore' = 'The connected ConfigMap store: Kind (ConfigMap), Name, the namespace, ConfigMap, data key and deployment it restarts, DefaultEnvironment and ProtectedEnvironments. Pass it to -Store of any flag cmdlet.'
    }
    Examples     = @(
        @{
            Title   = 'Connect to the repository''s flag document'
            Code    = @'
Connect-FlagStore -Path ./apps/backend/config/feature_flags.json -Environment staging
Get-Flag
'@
            Remarks = 'Connects the session to the playbook''s flag document with staging as the default environment, then lists the staging flags.'
        }
        @{
            Title   = 'Work with two documents side by side'
            Code    = @'
$copy = Connect-FlagStore -Path ./feature_flags.review.json -NoDefault
Get-Flag -Environment production -Store $copy
'@
            Remarks = 'Opens a second document without replacing the session''s default store and reads it through -Store.'
        }
        @{
            Title   = 'Connect to LaunchDarkly with a token from a prompt'
            Code    = @'
$token = Read-Host -AsSecureString 'LaunchDarkly access token'
Connect-FlagStore -LaunchDarkly -ProjectKey pms -ApiKey $token -Environment production
Get-Flag -Flag telehealth_appointments_enabled
'@
            Remarks = 'In a pipeline, set LD_API_KEY from the pipeline''s secret store and leave -ApiKey out.'
        }
        @{
            Title   = 'Require tickets in more than one environment'
            Code    = 'Connect-FlagStore -Path ./apps/backend/config/feature_flags.json -ProtectedEnvironment production, staging'
            Remarks = 'Every change other than switching a flag off now needs -ApprovalTicket in production and in staging.'
        }
    )
    Notes        = @'
Error ids: LaunchDarklyTokenMissing, LaunchDarklyUnauthorized, LaunchDarklyForbidden, ProjectNotFound, InsecureBaseUri,
LaunchDarklyBudgetExhausted, LaunchDarklyUnreachable (LaunchDarkly), FlagDocumentNotFound (the file does not exist), FlagDocumentMalformed (the file is not a JSON object of
environments; it is never modified), EnvironmentNotFound (-Environment is not in the document).

The connection belongs to the current runspace: a new pwsh process or runspace must connect again. When
Connect-FlagStore fails, the store connected before it is no longer the default: the next command fails with
StoreNotConnected (unless it is given -Store) instead of changing the document you meant to leave. -ApiKey takes a
SecureString: pass -ApiKey (Read-Host -AsSecureString), or set LD_API_KEY; a plain string is refused with that hint.
'@
    RelatedLinks = @('about_PMS.Flags', 'Get-Flag', 'Set-FlagPercentage', 'Connect-FlagLedger')
}
