using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Moves a torn tail (an unterminated last line) to a quarantine file beside the ledger and records that; refuses every other problem.</summary>
[Cmdlet(VerbsDiagnostic.Repair, "FlagLedger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = LedgerSet)]
[OutputType(typeof(LedgerRepairResult))]
public sealed class RepairFlagLedgerCommand : FlagCmdletBase
{
    private const string LedgerSet = "Ledger";
    private const string PathSet = "Path";

    [Parameter(ParameterSetName = LedgerSet)]
    public ILedger? Ledger { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (ParameterSetName == PathSet && !File.Exists(ResolvePath(Path)))
        {
            throw new FlagsException("LedgerNotFound", FlagsErrorKind.ObjectNotFound, $"The ledger file '{ResolvePath(Path)}' does not exist.", ResolvePath(Path));
        }

        // A torn ledger fails verification on open by definition; this command is what opens it anyway.
        var ledger = (ParameterSetName == PathSet ? new JsonlLedger(ResolvePath(Path)) : ResolveLedger(Ledger, verifyOnOpen: false)) as JsonlLedger
            ?? throw new FlagsException("LedgerNotTorn", FlagsErrorKind.InvalidOperation, "Only a JSONL ledger can have a torn tail.");
        var verdict = LedgerRepair.Inspect(ledger, CancellationToken);
        if (!ShouldProcess(ledger.Name, $"Move the torn tail after #{verdict.FirstBrokenSequence - 1} to a quarantine file beside the ledger"))
        {
            return;
        }

        var result = Run((log, ct) => LedgerRepair.RepairAsync(ledger, AuditTrailFor(ledger, log.Engine), User, Reason, ct));
        WriteObject(result);
    }
}
