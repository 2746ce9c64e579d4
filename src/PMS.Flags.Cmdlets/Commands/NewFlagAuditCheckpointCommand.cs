using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Seals the ledger's head now with a signed checkpoint, after verifying what is unsealed (a seal must never bless a tampered ledger).</summary>
[Cmdlet(VerbsCommon.New, "FlagAuditCheckpoint", SupportsShouldProcess = true)]
[OutputType(typeof(Checkpoint))]
public sealed class NewFlagAuditCheckpointCommand : FlagCmdletBase
{
    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>A PEM ECDSA P-256 private key; by default the key the ledger was connected with.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SigningKeyPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    protected override void ProcessFlagRecord()
    {
        var resolved = ResolveLedger(Ledger);
        if (resolved is JsonlLedger jsonl)
        {
            SealJsonl(jsonl);
            return;
        }

        if (resolved is Engine.Ledger.Postgres.PostgresLedger)
        {
            SealPostgres(resolved);
            return;
        }

        throw new FlagsException("CheckpointKeyRequired", FlagsErrorKind.InvalidArgument, $"New-FlagAuditCheckpoint seals JSONL and PostgreSQL ledgers; {resolved.Name} is neither.");
    }

    private void SealJsonl(JsonlLedger ledger)
    {
        var store = CheckpointPath is null ? ledger.Checkpoints : new JsonlCheckpointStore(ResolvePath(CheckpointPath));
        var sealer = SigningKeyPath is not null
            ? new CheckpointSealer(CheckpointSigner.FromPemFile(ResolvePath(SigningKeyPath)), store)
            : ledger.Sealer is { } connected && CheckpointPath is null ? connected
            : throw new FlagsException("CheckpointKeyRequired", FlagsErrorKind.InvalidArgument, "Pass -SigningKeyPath, or connect the ledger with Connect-FlagLedger -SigningKeyPath.");
        var verifying = new JsonlLedger(ledger.Path) { Checkpoints = store };
        using (var keys = sealer.Signer.PublicKeyRing())
        {
            LedgerOpening.Verify(verifying, skip: false, keys, CancellationToken);
        }

        if (!ShouldProcess(ledger.Name, $"Seal the ledger head with key {sealer.Signer.Fingerprint} into {store.Name}"))
        {
            return;
        }

        var checkpoint = Run(async (log, ct) =>
        {
            var record = await AuditTrailFor(ledger, log.Engine).RecordAsync(SealedEvent(), ct).ConfigureAwait(false);
            if (record.Spooled)
            {
                throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The ledger {ledger.Name} could not record the checkpoint event, so its head was not sealed.", ledger.Path);
            }

            return ledger.SealHead(sealer, ct)!;
        });
        WriteVerbose($"Sealed #{checkpoint.Sequence} ({checkpoint.HeadHash}) into {store.Name}.");
        WriteObject(checkpoint);
    }

    // Its own method so that Npgsql is loaded only for a PostgreSQL ledger. Its checkpoints are its own table, and the
    // event and its seal commit in one transaction under the append lock, so no other append can come between them.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void SealPostgres(ILedger resolved)
    {
        var ledger = (Engine.Ledger.Postgres.PostgresLedger)resolved;
        if (CheckpointPath is not null)
        {
            throw new FlagsException("CheckpointPathNotApplicable", FlagsErrorKind.InvalidArgument, $"-CheckpointPath names a checkpoint file, but {ledger.Name} keeps its checkpoints in its own table ({ledger.Checkpoints.Name}); leave -CheckpointPath out. Nothing was written.", CheckpointPath);
        }

        var signer = SigningKeyPath is not null
            ? CheckpointSigner.FromPemFile(ResolvePath(SigningKeyPath))
            : ledger.Sealer?.Signer ?? throw new FlagsException("CheckpointKeyRequired", FlagsErrorKind.InvalidArgument, "Pass -SigningKeyPath, or connect the ledger with Connect-FlagLedger -SigningKeyPath.");
        using (var keys = signer.PublicKeyRing())
        {
            Run((_, ct) => Task.FromResult(LedgerOpening.VerifyPostgres(ledger, skip: false, keys, ct)));
        }

        if (!ShouldProcess(ledger.Name, $"Seal the ledger head with key {signer.Fingerprint} into {ledger.Checkpoints.Name}"))
        {
            return;
        }

        var checkpoint = Run((log, ct) => Engine.Ledger.Postgres.PostgresHeadSeal.SealAsync(ledger, signer, draft => AuditTrailFor(ledger, log.Engine).RecordAsync(draft, ct), SealedEvent(), ct));
        WriteVerbose($"Sealed #{checkpoint.Sequence} ({checkpoint.HeadHash}) into {ledger.Checkpoints.Name}.");
        WriteObject(checkpoint);
    }

    private AuditEvent SealedEvent() => new()
    {
        EventType = LedgerEventTypes.CheckpointSealed,
        UserId = UserIdentity.Resolve(User),
        Reason = string.IsNullOrWhiteSpace(Reason) ? "checkpoint on demand" : Reason,
        Outcome = "sealed",
    };
}
