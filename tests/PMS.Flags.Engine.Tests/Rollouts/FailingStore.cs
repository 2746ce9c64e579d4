using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>A store that dies (or lets something happen) just before a percentage change: a process killed mid-step.</summary>
internal sealed class FailingStore : IFlagStore
{
    private readonly IFlagStore inner;

    public FailingStore(IFlagStore inner) => this.inner = inner;

    public bool FailSetPercentage { get; set; }

    public bool FailTurnOff { get; set; }

    public Func<Task>? BeforeSetPercentage { get; set; }

    public string Kind => inner.Kind;

    public string Name => inner.Name;

    public string Identity => inner.Identity;

    public string? DefaultEnvironment => inner.DefaultEnvironment;

    public IReadOnlyCollection<string> ProtectedEnvironments => inner.ProtectedEnvironments;

    public Task<IReadOnlyList<string>> GetEnvironmentsAsync(CancellationToken cancellationToken) => inner.GetEnvironmentsAsync(cancellationToken);

    public Task<IReadOnlyList<FlagState>> GetFlagsAsync(string environment, string? flag, CancellationToken cancellationToken) => inner.GetFlagsAsync(environment, flag, cancellationToken);

    public async Task<FlagChangeResult> ApplyAsync(FlagChange change, CancellationToken cancellationToken)
    {
        if (change.Kind == FlagChangeKind.TurnOff && FailTurnOff)
        {
            throw new HttpRequestException("the flag service is down");
        }

        if (change.Kind == FlagChangeKind.SetPercentage)
        {
            if (FailSetPercentage)
            {
                throw new IOException("the process died here");
            }

            if (BeforeSetPercentage is { } before)
            {
                BeforeSetPercentage = null;
                await before();
            }
        }

        return await inner.ApplyAsync(change, cancellationToken);
    }

    public Task<FlagChangeResult> PreviewAsync(FlagChange change, CancellationToken cancellationToken) => inner.PreviewAsync(change, cancellationToken);
}
