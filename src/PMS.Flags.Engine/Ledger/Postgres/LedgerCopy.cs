using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// Moves a trail between ledgers (JSONL to PostgreSQL and back) without changing one byte of evidence. A hash covers
/// an event's content, its sequence and the hash before it, so appending the source's events in order to a target that
/// holds exactly the source's first events reproduces the same sequences and hashes; every batch is checked against
/// the source's hashes as it lands. A broken source, or a target that is not a prefix of it, is refused before anything
/// is written. The copy itself is recorded in the target, after the copied events.
/// </summary>
public static class LedgerCopy
{
    public const string CopiedEventType = "audit_copied";
    private const int BatchSize = 500;

    /// <summary>What a copy would do: how many events the target already holds and how many it would receive.</summary>
    public static async Task<LedgerCopyResult> PlanAsync(ILedger from, ILedger to, CancellationToken cancellationToken)
    {
        if (string.Equals(from.Identity, to.Identity, StringComparison.Ordinal))
        {
            throw new FlagsException("AuditCopySameLedger", FlagsErrorKind.InvalidArgument, $"-From and -To are the same ledger ({to.Name}); nothing was copied.", to.Name);
        }

        // The copy is recorded in the target: a target that cannot be written now is refused before anything is copied.
        await to.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        var source = await from.VerifyAsync(cancellationToken).ConfigureAwait(false);
        if (!source.Valid)
        {
            throw new FlagsException("AuditCopySourceBroken", FlagsErrorKind.InvalidData, $"The source ledger {from.Name} does not verify (#{source.FirstBrokenSequence}: {source.Problem}); nothing was copied. Run Test-FlagAuditChain on it.", from.Name);
        }

        var target = await to.VerifyAsync(cancellationToken).ConfigureAwait(false);
        if (!target.Valid)
        {
            throw new FlagsException("AuditCopyTargetDiverged", FlagsErrorKind.InvalidOperation, $"The target ledger {to.Name} does not verify (#{target.FirstBrokenSequence}: {target.Problem}); nothing was copied.", to.Name);
        }

        if (target.Count > source.Count || !await IsPrefixAsync(from, to, target.Count, cancellationToken).ConfigureAwait(false))
        {
            throw new FlagsException("AuditCopyTargetDiverged", FlagsErrorKind.InvalidOperation, $"The target ledger {to.Name} holds {target.Count} event(s) that are not the first events of {from.Name}; a copy would fork the trail. Copy into an empty ledger.", to.Name);
        }

        return new LedgerCopyResult(from.Name, to.Name, target.Count, source.Count - target.Count, source.HeadHash);
    }

    /// <summary>Appends the source's events the target lacks, in batches, each checked hash by hash against the source.</summary>
    public static async Task<LedgerCopyResult> CopyAsync(ILedger from, ILedger to, LedgerCopyResult plan, CancellationToken cancellationToken)
    {
        var batch = new List<AuditEvent>(BatchSize);
        long copied = 0;
        long seen = 0;
        await foreach (var e in from.ReadAsync(AuditQuery.All, cancellationToken).ConfigureAwait(false))
        {
            if (++seen <= plan.AlreadyPresent)
            {
                continue;
            }

            batch.Add(e);
            if (batch.Count == BatchSize)
            {
                copied += await AppendCheckedAsync(to, batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }

        copied += await AppendCheckedAsync(to, batch, cancellationToken).ConfigureAwait(false);
        return new LedgerCopyResult(plan.From, plan.To, plan.AlreadyPresent, copied, plan.HeadHash);
    }

    /// <summary>The audit event of a copy, recorded in the target after the copied events.</summary>
    public static AuditEvent CopiedEvent(LedgerCopyResult result, string user, string reason) => new()
    {
        EventType = CopiedEventType,
        UserId = user,
        Reason = reason,
        Outcome = "copied",
        Details = new Newtonsoft.Json.Linq.JObject
        {
            ["from"] = result.From,
            ["to"] = result.To,
            ["already_present"] = result.AlreadyPresent,
            ["copied"] = result.Copied,
            ["source_head_hash"] = result.HeadHash,
        }.ToString(Newtonsoft.Json.Formatting.None),
    };

    private static async Task<long> AppendCheckedAsync(ILedger to, List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        var stored = await to.AppendAsync(batch.ToArray(), null, false, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < batch.Count; i++)
        {
            if (stored[i].Sequence != batch[i].Sequence || stored[i].Hash != batch[i].Hash)
            {
                // Only another writer appending to the target during the copy can cause this.
                throw new FlagsException("AuditCopyTargetDiverged", FlagsErrorKind.InvalidOperation, $"Event #{batch[i].Sequence} landed in {to.Name} as #{stored[i].Sequence} with another hash: something else wrote to the target during the copy. The target now holds a partial copy; copy into a new, empty ledger.", to.Name) { ChangeWasMade = true };
            }
        }

        return batch.Count;
    }

    private static async Task<bool> IsPrefixAsync(ILedger from, ILedger to, long count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return true;
        }

        var expected = new List<string?>();
        await foreach (var e in to.ReadAsync(AuditQuery.All, cancellationToken).ConfigureAwait(false))
        {
            expected.Add(e.Hash);
        }

        var index = 0;
        await foreach (var e in from.ReadAsync(new AuditQuery { First = (int)Math.Min(count, int.MaxValue) }, cancellationToken).ConfigureAwait(false))
        {
            if (index >= expected.Count || expected[index++] != e.Hash)
            {
                return false;
            }
        }

        return index == expected.Count;
    }
}
