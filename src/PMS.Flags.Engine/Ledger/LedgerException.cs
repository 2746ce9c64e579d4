using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A ledger failure with its <see cref="LedgerFailure"/>. Every <see cref="ILedger"/> throws only this (wrapping its
/// driver's exceptions), so the audit trail and the rollout engine can tell "spool it" from "decide again" by type.
/// </summary>
public sealed class LedgerException : FlagsException
{
    public LedgerException(LedgerFailure failure, string errorId, FlagsErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(errorId, kind, message, target, inner)
    {
        Failure = failure;
    }

    public LedgerFailure Failure { get; }
}
