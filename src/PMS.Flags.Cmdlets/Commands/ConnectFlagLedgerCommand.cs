using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
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
        if (!NoDefault)
        {
            // Forget the previous default before trying: if this Connect fails, the next change must not be recorded there.
            FlagSession.Current.Ledger = null;
            FlagSession.Current.FailedLedgerConnect = $"-Path {Path}";
        }

        var path = ResolvePath(Path);
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder) && !File.Exists(folder))
        {
            // A mistyped folder must not become a second, empty trail somewhere new.
            throw new FlagsException("LedgerFolderNotFound", FlagsErrorKind.ObjectNotFound, $"The folder '{folder}' does not exist; Connect-FlagLedger creates a new ledger file but never folders. Check the path, or create the folder first.", path);
        }

        var isNew = !File.Exists(path) && !Directory.Exists(path);
        var ledger = new JsonlLedger(path);
        ledger.EnsureWritable();
        if (isNew)
        {
            // Said as a warning so that a typo shows at once, in a CI log too: a new file means the trail starts again.
            WriteWarning($"'{path}' did not exist: created a NEW, empty ledger. If you meant an existing ledger, check the path.");
        }

        var flush = Run((log, ct) => AuditTrailFor(ledger, log.Engine).FlushSpoolAsync(ct));
        if (flush.Flushed > 0)
        {
            WriteWarning($"Wrote {flush.Flushed} spooled audit event(s) to {ledger.Name}.");
        }

        WriteVerbose($"Connected to ledger {ledger.Name}.");
        if (!NoDefault)
        {
            FlagSession.Current.Ledger = ledger;
            FlagSession.Current.FailedLedgerConnect = null;
        }

        WriteObject(ledger);
    }
}
