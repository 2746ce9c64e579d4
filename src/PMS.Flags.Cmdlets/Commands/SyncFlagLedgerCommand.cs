using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Writes the events spooled for a ledger now, instead of on the next audited change, and returns what was written.</summary>
[Cmdlet(VerbsData.Sync, "FlagLedger", SupportsShouldProcess = true)]
[OutputType(typeof(AuditEvent))]
public sealed class SyncFlagLedgerCommand : FlagCmdletBase
{
    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var ledger = ResolveLedger(Ledger);
        var spool = new AuditSpool(Engine.Common.StatePaths.SpoolDirectory());
        var pending = spool.Pending(ledger).Count;
        if (pending == 0)
        {
            WriteVerbose($"Nothing is spooled for {ledger.Name}.");
            return;
        }

        if (!ShouldProcess(ledger.Name, $"Write {pending} spooled audit event(s)"))
        {
            return;
        }

        var flush = Run((log, ct) => spool.FlushAsync(ledger, log.Engine, ct));
        if (flush.LedgerFailure is { } failure)
        {
            // The spool keeps every event: a failure here loses nothing, and the next change retries.
            ThrowTerminatingError(ToErrorRecord(failure));
        }

        if (flush.Quarantined > 0)
        {
            WriteWarning($"{flush.Quarantined} spooled entr(y/ies) could not be read and were moved to '{spool.QuarantineDirectory}'.");
        }

        WriteVerbose($"Wrote {flush.Flushed} spooled audit event(s) to {ledger.Name}.");
        WriteObject(flush.Stored, enumerateCollection: true);
    }
}
