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
        var ledger = ResolveLedger(Ledger) as JsonlLedger
            ?? throw new FlagsException("CheckpointKeyRequired", FlagsErrorKind.InvalidArgument, "New-FlagAuditCheckpoint seals JSONL ledgers; this ledger keeps its own checkpoints.");
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

        var draft = new AuditEvent
        {
            EventType = LedgerEventTypes.CheckpointSealed,
            UserId = UserIdentity.Resolve(User),
            Reason = string.IsNullOrWhiteSpace(Reason) ? "checkpoint on demand" : Reason,
            Outcome = "sealed",
        };
        var checkpoint = Run(async (log, ct) =>
        {
            var record = await AuditTrailFor(ledger, log.Engine).RecordAsync(draft, ct).ConfigureAwait(false);
            if (record.Spooled)
            {
                throw new FlagsException("CheckpointUnwritable", FlagsErrorKind.WriteError, $"The ledger {ledger.Name} could not record the checkpoint event, so its head was not sealed.", ledger.Path);
            }

            return ledger.SealHead(sealer, ct)!;
        });
        WriteVerbose($"Sealed #{checkpoint.Sequence} ({checkpoint.HeadHash}) into {store.Name}.");
        WriteObject(checkpoint);
    }
}
