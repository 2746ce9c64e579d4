using System.Text;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Engine.Ledger.Postgres;

/// <summary>
/// Moves a trail between ledgers (JSONL to PostgreSQL and back) without changing one byte of evidence. A hash covers
/// an event's content, its sequence and the hash before it, so appending the source's events in order to a target that
/// holds exactly the source's first events reproduces the same sequences and hashes; every batch is checked against
/// the source's hashes as it lands. The source's signed checkpoints follow the events they seal, unchanged: a signature
/// covers (sequence, head hash, ledger length, time, previous signature, key), none of which the target can change, so
/// they verify in the target exactly as in the source. A broken source, a target that is not a prefix of it (events or
/// checkpoints), or a checkpoint whose byte offset would not hold in a JSONL target is refused before anything is
/// written. The copy itself is recorded in the target afterwards, by the caller.
/// </summary>
public static class LedgerCopy
{
    public const string CopiedEventType = "audit_copied";
    private const int BatchSize = 500;

    /// <summary>What a copy would do: how many events and checkpoints the target already holds and how many it would receive.</summary>
    public static async Task<LedgerCopyResult> PlanAsync(ILedger from, ILedger to, CancellationToken cancellationToken)
    {
        if (string.Equals(from.Identity, to.Identity, StringComparison.Ordinal))
        {
            throw new FlagsException("AuditCopySameLedger", FlagsErrorKind.InvalidArgument, $"-From and -To are the same ledger ({to.Name}); nothing was copied.", to.Name);
        }

        // The copy is recorded in the target: a target that cannot be written now is refused before anything is copied.
        await to.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
        var sourceStore = CheckpointsOf(from);
        var sourceSealed = sourceStore is { Exists: true };
        var source = sourceSealed ? VerifyAgainstCheckpoints(from, sourceStore!, cancellationToken) : await from.VerifyAsync(cancellationToken).ConfigureAwait(false);
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

        long checkpointsPresent = 0;
        long checkpointsToCopy = 0;
        if (sourceSealed)
        {
            // A source without checkpoints has none to carry, and a target's own seals then stand as they are.
            var targetStore = CheckpointsOf(to) ?? throw new FlagsException("AuditCopyCheckpointsDiverged", FlagsErrorKind.InvalidOperation, $"The source ledger {from.Name} has signed checkpoints, but {to.Name} cannot hold checkpoints; nothing was copied.", to.Name);
            (checkpointsPresent, checkpointsToCopy) = PlanCheckpoints(from, sourceStore!, to, targetStore);
            if (to is JsonlLedger jsonl)
            {
                await CheckOffsetsAsync(from, sourceStore!, jsonl, target.Count, checkpointsPresent, cancellationToken).ConfigureAwait(false);
            }
        }

        return new LedgerCopyResult(from.Name, to.Name, target.Count, source.Count - target.Count, source.HeadHash, checkpointsPresent, checkpointsToCopy);
    }

    /// <summary>
    /// Appends the source's events the target lacks, in batches, each checked hash by hash against the source, then the
    /// source's checkpoints the target lacks. Interrupted, it leaves the target a prefix of the source (events, then
    /// checkpoints), so the same copy run again carries on from there: AuditCopyIncomplete says so.
    /// </summary>
    public static async Task<LedgerCopyResult> CopyAsync(ILedger from, ILedger to, LedgerCopyResult plan, CancellationToken cancellationToken)
    {
        var carriesCheckpoints = plan.CheckpointsAlreadyPresent + plan.CheckpointsCopied > 0;
        long copied = 0;
        // The target's own sealer would put its checkpoints between the source's and break their chain of signatures;
        // the source's checkpoints seal these events instead. It seals again from the audit_copied event on.
        var ownSealer = carriesCheckpoints ? SwapSealer(to, null) : null;
        try
        {
            var batch = new List<AuditEvent>(BatchSize);
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
        }
        catch (FlagsException ex) when (ex.ErrorId != "AuditCopyTargetDiverged")
        {
            throw Incomplete(to, plan, plan.AlreadyPresent + copied, plan.CheckpointsAlreadyPresent, ex);
        }
        finally
        {
            if (carriesCheckpoints)
            {
                SwapSealer(to, ownSealer);
            }
        }

        long checkpointsCopied = 0;
        if (plan.CheckpointsCopied > 0)
        {
            var sourceStore = CheckpointsOf(from)!;
            var targetStore = CheckpointsOf(to)!;
            var missing = sourceStore.ReadAll().Skip((int)Math.Min(plan.CheckpointsAlreadyPresent, int.MaxValue));
            try
            {
                if (targetStore is PostgresCheckpointStore table)
                {
                    checkpointsCopied = table.AppendCopied(missing, plan.CheckpointsAlreadyPresent);
                }
                else if (targetStore is JsonlCheckpointStore file)
                {
                    file.AppendAll(missing, batch => checkpointsCopied += batch);
                }
                else
                {
                    foreach (var checkpoint in missing)
                    {
                        targetStore.Append(checkpoint);
                        checkpointsCopied++;
                    }
                }
            }
            catch (FlagsException ex)
            {
                throw Incomplete(to, plan, plan.AlreadyPresent + copied, plan.CheckpointsAlreadyPresent + checkpointsCopied, ex);
            }
        }

        return new LedgerCopyResult(plan.From, plan.To, plan.AlreadyPresent, copied, plan.HeadHash, plan.CheckpointsAlreadyPresent, checkpointsCopied);
    }

    /// <summary>The audit event of a copy, recorded in the target after the copied events and checkpoints.</summary>
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
            ["checkpoints_already_present"] = result.CheckpointsAlreadyPresent,
            ["checkpoints_copied"] = result.CheckpointsCopied,
        }.ToString(Newtonsoft.Json.Formatting.None),
    };

    private static ICheckpointStore? CheckpointsOf(ILedger ledger) => ledger switch
    {
        JsonlLedger jsonl => jsonl.Checkpoints,
        PostgresLedger postgres => postgres.Checkpoints,
        _ => null,
    };

    private static CheckpointSealer? SwapSealer(ILedger ledger, CheckpointSealer? sealer)
    {
        switch (ledger)
        {
            case JsonlLedger jsonl:
                var jsonlSealer = jsonl.Sealer;
                jsonl.Sealer = sealer;
                return jsonlSealer;
            case PostgresLedger postgres:
                var postgresSealer = postgres.Sealer;
                postgres.Sealer = sealer;
                return postgresSealer;
            default:
                return null;
        }
    }

    /// <summary>The chain and its checkpoints (the last one's seal, the chain of signatures), without keys: copying carries signatures, it does not judge them.</summary>
    private static ChainVerification VerifyAgainstCheckpoints(ILedger ledger, ICheckpointStore store, CancellationToken cancellationToken) => ledger switch
    {
        JsonlLedger jsonl => CheckpointVerifier.Verify(jsonl, store, null, null, 0, cancellationToken),
        PostgresLedger postgres => CheckpointVerifier.Verify(postgres, store, null, null, 0, cancellationToken),
        _ => ledger.VerifyAsync(cancellationToken).GetAwaiter().GetResult(),
    };

    /// <summary>The target's checkpoints must be the source's first ones, document for document; returns (present, to copy).</summary>
    private static (long Present, long ToCopy) PlanCheckpoints(ILedger from, ICheckpointStore sourceStore, ILedger to, ICheckpointStore targetStore)
    {
        long present = 0;
        long total = 0;
        using var sourceCheckpoints = sourceStore.ReadAll().GetEnumerator();
        foreach (var held in targetStore.ReadAll())
        {
            present++;
            if (!sourceCheckpoints.MoveNext() || !SameCheckpoint(sourceCheckpoints.Current, held))
            {
                throw new FlagsException("AuditCopyCheckpointsDiverged", FlagsErrorKind.InvalidOperation, $"Checkpoint {present} in {targetStore.Name} (sealing #{held.Sequence}) is not checkpoint {present} of {from.Name}: the target's checkpoints must be the source's first ones. Nothing was copied; copy into an empty ledger with no checkpoints.", to.Name);
            }
        }

        total = present;
        while (sourceCheckpoints.MoveNext())
        {
            total++;
        }

        return (present, total - present);
    }

    private static bool SameCheckpoint(Checkpoint a, Checkpoint b)
        => a.Sequence == b.Sequence && a.LedgerLength == b.LedgerLength && a.Timestamp == b.Timestamp
           && string.Equals(a.HeadHash, b.HeadHash, StringComparison.Ordinal)
           && string.Equals(a.KeyFingerprint, b.KeyFingerprint, StringComparison.Ordinal)
           && string.Equals(a.PreviousSignature, b.PreviousSignature, StringComparison.Ordinal)
           && string.Equals(a.Signature, b.Signature, StringComparison.Ordinal);

    /// <summary>
    /// A JSONL checkpoint names the byte offset just after the line it seals, and it is signed, so it cannot be moved:
    /// it must hold in the target file. It does when the target's lines are the source's byte for byte from the start
    /// (what this copy writes). Each offset is computed from the canonical lines the copy will write, before anything is
    /// written; one that would not hold (a source file with other line endings, a target written otherwise) is refused,
    /// since the copied checkpoint would then make the target fail verification on open.
    /// </summary>
    private static async Task CheckOffsetsAsync(ILedger from, ICheckpointStore sourceStore, JsonlLedger to, long targetCount, long checkpointsPresent, CancellationToken cancellationToken)
    {
        var pending = new Queue<Checkpoint>();
        foreach (var checkpoint in sourceStore.ReadAll().Skip((int)Math.Min(checkpointsPresent, int.MaxValue)))
        {
            if (checkpoint.LedgerLength is null)
            {
                continue;
            }

            if (checkpoint.Sequence <= targetCount)
            {
                var line = to.LineEndingAt(checkpoint.LedgerLength.Value);
                var link = line is null ? default : ChainVerifier.ReadLink(line, 0);
                Sha256Value.TryParse(checkpoint.HeadHash, out var sealedHash);
                if (line is null || link.Sequence != checkpoint.Sequence || !link.HashValid || link.Hash != sealedHash)
                {
                    throw Misplaced(from, to, checkpoint);
                }

                continue;
            }

            // Only the sequence and offset are kept, a few bytes each, even when every event was sealed.
            pending.Enqueue(new Checkpoint { Sequence = checkpoint.Sequence, LedgerLength = checkpoint.LedgerLength, HeadHash = checkpoint.HeadHash });
        }

        if (pending.Count == 0)
        {
            return;
        }

        var offset = File.Exists(to.Path) ? to.SnapshotExtent(cancellationToken).Complete : 0;
        long seen = 0;
        await foreach (var e in from.ReadAsync(AuditQuery.All, cancellationToken).ConfigureAwait(false))
        {
            if (++seen <= targetCount)
            {
                continue;
            }

            offset += Encoding.UTF8.GetByteCount(AuditEventCodec.ToLine(e.WithChain(e.Sequence, e.PrevHash, ""), out _)) + 1;
            while (pending.Count > 0 && pending.Peek().Sequence == e.Sequence)
            {
                if (pending.Dequeue().LedgerLength != offset)
                {
                    throw Misplaced(from, to, e.Sequence);
                }
            }

            if (pending.Count == 0)
            {
                return;
            }
        }

        throw Misplaced(from, to, pending.Peek().Sequence);
    }

    private static FlagsException Misplaced(ILedger from, JsonlLedger to, Checkpoint checkpoint) => Misplaced(from, to, checkpoint.Sequence);

    private static FlagsException Misplaced(ILedger from, JsonlLedger to, long sequence)
        => new("AuditCopyCheckpointMisplaced", FlagsErrorKind.InvalidData, $"The checkpoint of {from.Name} sealing #{sequence} names a byte offset that event #{sequence} would not end at in '{to.Path}' (its lines are not the source's byte for byte); a signed checkpoint cannot be moved, so nothing was copied. Copy into a new, empty JSONL file.", to.Path);

    private static FlagsException Incomplete(ILedger to, LedgerCopyResult plan, long eventsHeld, long checkpointsHeld, FlagsException cause)
        => new("AuditCopyIncomplete", FlagsErrorKind.WriteError, $"The copy into {to.Name} stopped partway: it now holds the source's first {eventsHeld} of {plan.AlreadyPresent + plan.Copied} event(s) and {checkpointsHeld} of {plan.CheckpointsAlreadyPresent + plan.CheckpointsCopied} checkpoint(s), and no audit_copied event ({cause.ErrorId}: {cause.Message}). Fix that, then run the same Copy-FlagAudit again: it carries on from there.", to.Name, cause) { ChangeWasMade = eventsHeld > plan.AlreadyPresent || checkpointsHeld > plan.CheckpointsAlreadyPresent };

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
