namespace PMS.Flags.Engine.Flags;

/// <summary>What a store did: the state before (when the store knows it) and the state after.</summary>
public sealed class FlagChangeResult
{
    public FlagChangeResult(FlagState? previous, FlagState current, bool changed)
    {
        Previous = previous;
        Current = current;
        Changed = changed;
    }

    public FlagState? Previous { get; }

    public FlagState Current { get; }

    /// <summary>False when the flag was already in the requested state (the request is idempotent).</summary>
    public bool Changed { get; }
}
