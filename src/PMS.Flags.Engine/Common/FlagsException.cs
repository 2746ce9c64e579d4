namespace PMS.Flags.Engine.Common;

/// <summary>
/// The exception type the engine throws for a refusal the user can act on (ledger failures derive from it to carry
/// their <see cref="Ledger.LedgerFailure"/>). ErrorId is a stable,
/// documented identifier that scripts and tests match on; the message must never carry a secret.
/// </summary>
public class FlagsException : Exception
{
    public FlagsException(string errorId, FlagsErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }

    public FlagsErrorKind Kind { get; }

    public object? Target { get; }

    /// <summary>True when the failure happened after the change was made, so the caller must not report "nothing changed".</summary>
    public bool ChangeWasMade { get; init; }

    /// <summary>
    /// True when a write was sent and its fate is unknown (the connection dropped, the budget ran out after sending):
    /// the change may have been made. Callers record it as "unknown" before reporting the error.
    /// </summary>
    public bool ChangeMayHaveBeenMade { get; init; }
}
