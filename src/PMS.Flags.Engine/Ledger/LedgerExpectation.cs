namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// "Append only if nothing was added to <see cref="Stream"/> after sequence <see cref="ReadAt"/>": the caller read the
/// stream completely as of that ledger head (read the head first, then the events) and decided on what it saw.
/// </summary>
public sealed record LedgerExpectation(LedgerStream Stream, long ReadAt);
