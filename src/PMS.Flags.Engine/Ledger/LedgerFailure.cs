namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// What a ledger failure means for the caller. Callers decide by this, never by ErrorId: after a change was made an
/// <see cref="Unavailable"/> or <see cref="Refused"/> ledger gets the event spooled; a <see cref="Conflict"/> means
/// "another writer moved this stream: fold again and decide again".
/// </summary>
public enum LedgerFailure
{
    /// <summary>The ledger cannot be reached or written now (I/O error, lock held too long, database down); retrying later may work.</summary>
    Unavailable,

    /// <summary>The ledger refuses appends until a person acts (a torn or foreign last line, a broken chain, no permission).</summary>
    Refused,

    /// <summary>Another writer appended to the expected stream since it was read; nothing was appended.</summary>
    Conflict,
}
