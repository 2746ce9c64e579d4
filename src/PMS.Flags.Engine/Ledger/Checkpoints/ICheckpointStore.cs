namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// Where a ledger's checkpoints are kept, apart from the ledger itself (a file beside a JSONL ledger; a table, or
/// better another host, for PostgreSQL). Appends happen under the ledger's writers' lock, so checkpoints are in order.
/// Reading a store that holds something other than checkpoints fails with CheckpointFileMalformed.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>A display name, never a secret.</summary>
    string Name { get; }

    /// <summary>False when the store was never written (or was deleted).</summary>
    bool Exists { get; }

    /// <summary>Every checkpoint, oldest first, streamed.</summary>
    IEnumerable<Checkpoint> ReadAll();

    Checkpoint? ReadLast();

    void Append(Checkpoint checkpoint);
}
