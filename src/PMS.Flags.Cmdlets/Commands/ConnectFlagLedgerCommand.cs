using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommunications.Connect, "FlagLedger", DefaultParameterSetName = JsonlSet)]
[OutputType(typeof(JsonlLedger))]
public sealed class ConnectFlagLedgerCommand : FlagCmdletBase
{
    private const string JsonlSet = "Jsonl";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = JsonlSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter NoDefault { get; set; }

    protected override void ProcessFlagRecord()
    {
        var ledger = new JsonlLedger(ResolvePath(Path));
        ledger.EnsureWritable();
        var flush = Run((log, ct) => AuditTrailFor(ledger, log.Engine).FlushSpoolAsync(ct));
        if (flush.Flushed > 0)
        {
            WriteWarning($"Wrote {flush.Flushed} spooled audit event(s) to {ledger.Name}.");
        }

        WriteVerbose($"Connected to ledger {ledger.Name}.");
        if (!NoDefault)
        {
            FlagSession.Current.Ledger = ledger;
        }

        WriteObject(ledger);
    }
}
