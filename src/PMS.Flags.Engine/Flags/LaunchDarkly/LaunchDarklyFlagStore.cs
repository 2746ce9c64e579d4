using System.Globalization;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// Flags in a LaunchDarkly project, changed with one semantic patch per change.
/// <list type="bullet">
/// <item><b>TurnOff</b>: exactly one request (<c>turnFlagOff</c>), no read first, so an emergency rollback is one round
/// trip. LaunchDarkly answers with the new flag only, so <see cref="FlagChangeResult.Previous"/> is null and
/// <see cref="FlagChangeResult.Changed"/> is reported true (the store cannot tell whether the flag was already off);
/// read the flag afterwards for the audit.</item>
/// <item><b>SetPercentage</b>: one read (for the variation ids, the current rollout's bucketBy/contextKind and the
/// previous state), then one patch: <c>turnFlagOn</c> + <c>updateFallthroughVariationOrRollout</c> (or
/// <c>updateRuleVariationOrRollout</c> for <see cref="FlagChange.Rule"/>). The new state comes from the patch answer.</item>
/// <item><b>TurnOn</b>: the same read (to refuse a non-boolean flag before changing it, and for the previous state), then <c>turnFlagOn</c>.</item>
/// </list>
/// Preview sends the same requests with <c>dryRun=true</c>. Each operation has one time budget for all its requests.
/// </summary>
public sealed class LaunchDarklyFlagStore : IFlagStore, IDisposable
{
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(30);
    private readonly LaunchDarklyClient client;
    private readonly bool ownsClient;
    private readonly IOperationLog log;

    /// <summary>Creates and owns a client for <paramref name="baseUri"/> (https://app.launchdarkly.com when null).</summary>
    public LaunchDarklyFlagStore(
        string projectKey,
        Uri? baseUri,
        LaunchDarklyAccessToken token,
        TimeSpan? budget = null,
        string? defaultEnvironment = null,
        IEnumerable<string>? protectedEnvironments = null,
        IOperationLog? log = null,
        LaunchDarklyClientOptions? clientOptions = null)
        : this(RequireProject(projectKey), new LaunchDarklyClient(baseUri ?? LaunchDarklyClient.DefaultBaseUri, token, clientOptions, log), budget, defaultEnvironment, protectedEnvironments, log)
    {
        ownsClient = true;
    }

    /// <summary>Uses <paramref name="client"/> without owning it.</summary>
    public LaunchDarklyFlagStore(
        string projectKey,
        LaunchDarklyClient client,
        TimeSpan? budget = null,
        string? defaultEnvironment = null,
        IEnumerable<string>? protectedEnvironments = null,
        IOperationLog? log = null)
    {
        ProjectKey = RequireProject(projectKey);
        this.client = client ?? throw new ArgumentNullException(nameof(client));
        Budget = budget ?? DefaultBudget;
        if (Budget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), "The LaunchDarkly time budget must be positive.");
        }

        DefaultEnvironment = defaultEnvironment;
        ProtectedEnvironments = (protectedEnvironments ?? new[] { "production" }).ToArray();
        this.log = log ?? NullOperationLog.Instance;
    }

    public string Kind => "LaunchDarkly";

    /// <summary>"LaunchDarkly:pms@app.launchdarkly.com" — no secret.</summary>
    public string Name => $"LaunchDarkly:{ProjectKey}@{client.BaseUri.Authority}";

    /// <summary><c>launchdarkly:&lt;project&gt;</c>: the same project whichever base URI or proxy reaches it.</summary>
    public string Identity => $"launchdarkly:{ProjectKey}";

    public string ProjectKey { get; }

    public Uri BaseUri => client.BaseUri;

    /// <summary>Total time one operation (all its requests, retries and rate-limit waits) may take.</summary>
    public TimeSpan Budget { get; }

    public string? DefaultEnvironment { get; }

    public IReadOnlyCollection<string> ProtectedEnvironments { get; }

    /// <summary>The project's environment keys (<c>GET /api/v2/projects/{projectKey}/environments</c>, paged).</summary>
    public async Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken)
    {
        var environments = await client.ListEnvironmentsAsync(ProjectKey, LaunchDarklyBudget.Start(Budget), cancellationToken).ConfigureAwait(false);
        return environments.Select(e => e.Key).ToArray();
    }

    /// <summary>
    /// One flag (<c>GET …/flags/{project}/{flag}?env=</c>) or all boolean flags of the environment (paged list with
    /// <c>summary=0</c>; non-boolean flags are left out with a warning). Each reports its fallthrough.
    /// </summary>
    public async Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken)
    {
        RequireEnvironment(environment);
        var budget = LaunchDarklyBudget.Start(Budget);
        if (flag is not null)
        {
            var one = await client.GetFlagAsync(ProjectKey, flag, environment, budget, cancellationToken).ConfigureAwait(false);
            return new[] { LaunchDarklyBooleanFlag.From(one, environment).ToState(Name, null) };
        }

        var all = await client.ListFlagsAsync(ProjectKey, environment, summary: false, pageSize: null, budget, cancellationToken).ConfigureAwait(false);
        if (all.Count == 0 || all.Any(f => !f.Environments.ContainsKey(environment)))
        {
            var known = await client.ListEnvironmentsAsync(ProjectKey, budget, cancellationToken).ConfigureAwait(false);
            if (!known.Any(e => e.Key == environment))
            {
                throw LaunchDarklyErrors.EnvironmentNotFound(ProjectKey, environment, known.Select(e => e.Key));
            }
        }

        var states = new List<FlagState>();
        var skipped = new List<string>();
        foreach (var item in all.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (LaunchDarklyBooleanFlag.IsBoolean(item, out _, out _) && item.Environments.ContainsKey(environment) && item.Variations.All(v => !string.IsNullOrEmpty(v.Id)))
            {
                states.Add(LaunchDarklyBooleanFlag.From(item, environment).ToState(Name, null));
            }
            else
            {
                skipped.Add(item.Key);
            }
        }

        if (skipped.Count > 0)
        {
            log.Warning($"{Name}: left out {skipped.Count} flag{(skipped.Count == 1 ? "" : "s")} that PMS.Flags does not manage (not boolean): {string.Join(", ", skipped)}.");
        }

        return states;
    }

    public Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken) => RunAsync(change, dryRun: false, cancellationToken);

    /// <summary>The same request(s) as <see cref="ApplyAsync"/> with <c>dryRun=true</c>: LaunchDarkly validates and answers with the would-be flag.</summary>
    public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken) => RunAsync(change, dryRun: true, cancellationToken);

    /// <summary>Keys of the project's boolean flags, for tab completion (paged summary list, no environment).</summary>
    public async Task<IReadOnlyList<string>> ListFlagKeysAsync(CancellationToken cancellationToken)
    {
        var all = await client.ListFlagsAsync(ProjectKey, null, summary: true, pageSize: null, LaunchDarklyBudget.Start(Budget), cancellationToken).ConfigureAwait(false);
        return all.Where(f => LaunchDarklyBooleanFlag.IsBoolean(f, out _, out _)).Select(f => f.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Whether SDKs evaluate the flag in the environment ("new", "active", "inactive", "launched").</summary>
    public Task<LdFlagStatus> GetFlagStatusAsync(string environment, string flag, CancellationToken cancellationToken)
    {
        RequireEnvironment(environment);
        return client.GetFlagStatusAsync(ProjectKey, environment, flag, LaunchDarklyBudget.Start(Budget), cancellationToken);
    }

    public void Dispose()
    {
        if (ownsClient)
        {
            client.Dispose();
        }
    }

    public override string ToString() => Name;

    private static string RequireProject(string projectKey)
        => string.IsNullOrWhiteSpace(projectKey)
            ? throw new FlagsException("ProjectRequired", FlagsErrorKind.InvalidArgument, "A LaunchDarkly project key is required (-ProjectKey).")
            : projectKey;

    private static void RequireEnvironment(string environment)
    {
        if (string.IsNullOrWhiteSpace(environment))
        {
            throw new FlagsException("EnvironmentRequired", FlagsErrorKind.InvalidArgument, "An environment is required: pass -Environment or connect the store with a default environment.");
        }
    }

    private static int Weight(FlagChange change)
    {
        if (change.Percentage is not { } percentage)
        {
            throw new FlagsException("PercentageRequired", FlagsErrorKind.InvalidArgument, "A percentage is required.", change.Flag);
        }

        if (percentage < 0m || percentage > 100m)
        {
            throw new FlagsException("PercentageOutOfRange", FlagsErrorKind.InvalidArgument, $"The percentage must be from 0 to 100; got {FlagPercentage.Format(percentage)}.", percentage);
        }

        var thousandths = percentage * 1000m;
        if (thousandths != decimal.Truncate(thousandths))
        {
            throw new FlagsException("PercentageTooPrecise", FlagsErrorKind.InvalidArgument, $"The percentage may have at most 3 decimals (LaunchDarkly weights are thousandths of a percent); got {percentage.ToString(CultureInfo.InvariantCulture)}.", percentage);
        }

        return (int)thousandths;
    }

    private static LdSemanticPatch Patch(FlagChange change, params LdInstruction[] instructions) => new()
    {
        EnvironmentKey = change.Environment,
        Comment = change.Comment,
        Instructions = instructions.ToList(),
    };

    private async Task<FlagChangeResult> RunAsync(FlagChange change, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (string.IsNullOrWhiteSpace(change.Flag))
        {
            throw new FlagsException("FlagRequired", FlagsErrorKind.InvalidArgument, "A flag key is required.");
        }

        RequireEnvironment(change.Environment);
        var weight = change.Kind == FlagChangeKind.SetPercentage ? Weight(change) : 0;
        var budget = LaunchDarklyBudget.Start(Budget);
        var rehearsal = dryRun ? " (dry run)" : string.Empty;

        if (change.Kind == FlagChangeKind.TurnOff)
        {
            // Emergency path: one request, nothing in front of it.
            log.Verbose($"{Name}: turning '{change.Flag}' off in '{change.Environment}' with one semantic patch, no read first{rehearsal}.");
            var answer = await client.PatchFlagAsync(ProjectKey, change.Flag, Patch(change, new LdInstruction { Kind = LdInstruction.TurnFlagOff }), dryRun, budget, cancellationToken).ConfigureAwait(false);
            return new FlagChangeResult(null, StateAfterTurnOff(answer, change, dryRun), changed: true);
        }

        // One read: variation ids, the current rollout's bucketing, the previous state; and a non-boolean flag is refused before anything changes.
        log.Verbose($"{Name}: reading '{change.Flag}' in '{change.Environment}' for its variation ids before the change{rehearsal}.");
        var before = LaunchDarklyBooleanFlag.From(await client.GetFlagAsync(ProjectKey, change.Flag, change.Environment, budget, cancellationToken).ConfigureAwait(false), change.Environment);
        if (change.Rule is not null)
        {
            var rule = before.RequireRule(change.Rule);
            if (rule.Disabled == true)
            {
                log.Warning($"{Name}: rule '{change.Rule}' of '{change.Flag}' in '{change.Environment}' is disabled; its percentage changes but it serves nobody until it is enabled.");
            }
        }

        var previous = before.ToState(Name, change.Rule);
        var instructions = new List<LdInstruction> { new() { Kind = LdInstruction.TurnFlagOn } };
        if (change.Kind == FlagChangeKind.SetPercentage)
        {
            instructions.Add(before.TargetInstruction(change.Rule, weight));
        }

        log.Verbose($"{Name}: sending {string.Join(" + ", instructions.Select(i => i.Kind))} for '{change.Flag}' in '{change.Environment}'{rehearsal}.");
        var after = await client.PatchFlagAsync(ProjectKey, change.Flag, Patch(change, instructions.ToArray()), dryRun, budget, cancellationToken).ConfigureAwait(false);
        var current = LaunchDarklyBooleanFlag.From(after, change.Environment, afterWrite: !dryRun).ToState(Name, change.Rule);
        return new FlagChangeResult(previous, current, Changed(previous, current, dryRun));
    }

    private FlagState StateAfterTurnOff(LdFlag answer, FlagChange change, bool dryRun)
    {
        if (LaunchDarklyBooleanFlag.IsBoolean(answer, out _, out _))
        {
            return LaunchDarklyBooleanFlag.From(answer, change.Environment, afterWrite: !dryRun).ToState(Name, null);
        }

        // Switching off was not held up by a read, so a non-boolean flag is only discovered now: it is off (serving its
        // off-variation), which is what was asked; report it without a percentage rather than fail after the fact.
        if (!answer.Environments.TryGetValue(change.Environment, out var configuration))
        {
            LaunchDarklyBooleanFlag.From(answer, change.Environment, afterWrite: !dryRun); // throws the right error
        }

        log.Warning($"{Name}: '{change.Flag}' is not a boolean flag; it was switched off{(dryRun ? " (dry run)" : string.Empty)} and serves its off-variation, which has no percentage.");
        return new FlagState(
            change.Flag,
            change.Environment,
            configuration!.On,
            null,
            Name,
            configuration.Version?.ToString(CultureInfo.InvariantCulture),
            configuration.LastModified is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
            LaunchDarklyBooleanFlag.Fallthrough)
        {
            OffPercentage = null,
        };
    }

    // LaunchDarkly bumps the environment's version only when something changed. A dry run never bumps it, so there the
    // would-be state is compared instead.
    private static bool Changed(FlagState previous, FlagState current, bool dryRun)
        => !dryRun && previous.Version is not null && current.Version is not null
            ? previous.Version != current.Version
            : previous.On != current.On || previous.Percentage != current.Percentage;
}
