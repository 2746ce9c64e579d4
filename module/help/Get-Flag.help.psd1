@{
    Synopsis     = 'Gets the state of feature flags -- on or off, and at what rollout percentage -- from the flag store.'
    Description  = @'
Get-Flag reads flags from the connected store (see Connect-FlagStore) and returns one object per flag and environment
with Flag, Environment, On, Percentage, Store, Version, LastModified and ServedBy. A flag's effective exposure is its
Percentage while On is true, and nothing while it is off.

Without -Flag it returns every flag; -Flag takes a key or a wildcard pattern (case-insensitive). Without -Environment
it reads the store's default environment, or every environment when the store has no default.

The output pipes by property name into Set-FlagPercentage, Enable-Flag, Disable-Flag, Invoke-EmergencyRollback and
Get-FlagAudit, so a query can drive a change.
'@
    Parameters   = @{
        Flag        = 'The flag key to read, for example telehealth_appointments_enabled. Wildcards are accepted (new_*). Without it, every flag in the environment is returned. Without -Environment (and no default), every environment is read: a flag in production only is found, and FlagNotFound comes only when no environment has it. Accepts flag names from the pipeline. A key without wildcards that does not exist writes a FlagNotFound error. Accepts pipeline input by property name (Flag, or its alias Key).'
        Environment = 'The environment to read, for example staging or production. Without it, the store''s default environment is read, or every environment when the store has none. An unknown environment writes an EnvironmentNotFound error.'
        Store       = 'The store to read, as returned by Connect-FlagStore -NoDefault. Defaults to the session''s connected store.'
    }
    Outputs      = @{
        'PMS.Flags.Engine.Flags.FlagState' = 'One flag in one environment: Flag, Environment, On, Percentage, EffectivePercentage, Store, Version, LastModified (UTC) and ServedBy.'
    }
    Examples     = @(
        @{
            Title   = 'Confirm a flag is off in production before a deployment'
            Code    = 'Get-Flag -Flag telehealth_appointments_enabled -Environment production'
            Remarks = 'The playbook''s Step 1 check: On must be False before the rollout starts.'
        }
        @{
            Title   = 'List every flag in every environment'
            Code    = 'Get-Flag'
            Remarks = 'With a store connected without -Environment, all environments are listed.'
        }
        @{
            Title   = 'Find flags by pattern'
            Code    = 'Get-Flag -Flag *billing* -Environment staging | Where-Object On'
            Remarks = 'Lists the billing flags that are switched on in staging.'
        }
        @{
            Title   = 'Move every staging flag to 50%'
            Code    = 'Get-Flag -Environment staging | Set-FlagPercentage -Percentage 50 -Reason ''Staging soak at 50%'''
            Remarks = 'Flag and Environment bind by property name, so each flag is changed and audited separately.'
        }
    )
    Notes        = @'
Error ids: NoFlagStore (no store connected and no ./apps/backend/config/feature_flags.json), FlagNotFound and
EnvironmentNotFound (non-terminating; use -ErrorAction Stop to stop on them), FlagDocumentMalformed,
FlagValueUnsupported (a flag value that is neither a boolean nor an object with enabled/rollout_percentage),
FlagPatternInvalid (-Flag is not a valid wildcard pattern, for example an unclosed bracket).
'@
    RelatedLinks = @('about_PMS.Flags', 'Connect-FlagStore', 'Set-FlagPercentage', 'Get-FlagAudit')
}
