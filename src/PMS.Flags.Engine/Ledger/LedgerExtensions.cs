namespace PMS.Flags.Engine.Ledger;

/// <summary>Conveniences over <see cref="ILedger"/>: one unconditional append, a read into a list, and blocking forms for the cmdlets' pipeline thread.</summary>
public static class LedgerExtensions
{
    public static async Task<AuditEvent> AppendAsync(this ILedger ledger, AuditEvent draft, CancellationToken cancellationToken)
        => (await ledger.AppendAsync(new[] { draft }, null, false, cancellationToken).ConfigureAwait(false))[0];

    public static async Task<List<AuditEvent>> ReadListAsync(this ILedger ledger, AuditQuery query, CancellationToken cancellationToken)
    {
        var events = new List<AuditEvent>();
        await foreach (var e in ledger.ReadAsync(query, cancellationToken).ConfigureAwait(false))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>Streams a read on a thread without a synchronization context (a pipeline thread), one event at a time.</summary>
    public static IEnumerable<AuditEvent> Read(this ILedger ledger, AuditQuery query, CancellationToken cancellationToken)
    {
        var enumerator = ledger.ReadAsync(query, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                yield return enumerator.Current;
            }
        }
        finally
        {
            enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public static ChainVerification Verify(this ILedger ledger, CancellationToken cancellationToken)
        => ledger.VerifyAsync(cancellationToken).GetAwaiter().GetResult();

    public static void EnsureWritable(this ILedger ledger)
        => ledger.EnsureWritableAsync(CancellationToken.None).GetAwaiter().GetResult();
}
