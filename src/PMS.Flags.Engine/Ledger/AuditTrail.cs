using Newtonsoft.Json;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The ledger as mutations use it: check it is writable before a change that must be audited first, and record after
/// the change — into the ledger, or, when the ledger fails at that moment, into the spool, because the change has
/// already happened and its record must not be lost.
/// </summary>
public sealed class AuditTrail
{
    public AuditTrail(ILedger ledger, AuditSpool spool, IOperationLog log)
    {
        Ledger = ledger;
        Spool = spool;
        Log = log;
    }

    public ILedger Ledger { get; }

    public AuditSpool Spool { get; }

    public IOperationLog Log { get; }

    public void EnsureWritable()
    {
        Log.Verbose($"Checking that the audit ledger {Ledger.Name} can be written before changing anything.");
        Ledger.EnsureWritable();
    }

    public async Task<AuditRecord> RecordAsync(AuditEvent draft, CancellationToken cancellationToken)
    {
        try
        {
            await Spool.FlushAsync(Ledger, Log, cancellationToken).ConfigureAwait(false);
            var stored = await Ledger.AppendAsync(draft, null, cancellationToken).ConfigureAwait(false);
            Log.Verbose($"Recorded {stored.EventType} as #{stored.Sequence} in {Ledger.Name}.");
            return new AuditRecord(stored, false, null);
        }
        catch (FlagsException ex) when (ex.ErrorId is "LedgerUnwritable" or "LockTimeout" or "LedgerTornTail" or "LedgerMalformed" or "LedgerUnavailable")
        {
            return SpoolAfterFailure(draft, ex);
        }
        catch (OperationCanceledException)
        {
            // The change has happened; a cancelled session must still leave its record behind.
            return SpoolAfterFailure(draft, null);
        }
    }

    private AuditRecord SpoolAfterFailure(AuditEvent draft, FlagsException? cause)
    {
        try
        {
            var path = Spool.Spool(Ledger, draft);
            Log.Warning($"The change was made, but the ledger could not record it now ({cause?.Message ?? "cancelled"}). The audit event was spooled to '{path}' and will be written on the next successful append.");
            return new AuditRecord(draft, true, path);
        }
        catch (Exception spoolFailure) when (spoolFailure is IOException or UnauthorizedAccessException)
        {
            var json = AuditEventCodec.ToJObject(draft, includeHash: false).ToString(Formatting.None);
            throw new FlagsException(
                "AuditNotRecorded",
                FlagsErrorKind.WriteError,
                $"The change WAS made, but neither the ledger nor the spool '{Spool.Directory}' could record it ({spoolFailure.Message}). Record this event by hand: {json}",
                draft.FeatureFlag,
                cause ?? spoolFailure)
            { ChangeWasMade = true };
        }
    }
}
