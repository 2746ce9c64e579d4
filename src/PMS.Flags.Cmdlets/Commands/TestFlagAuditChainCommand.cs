using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlagAuditChain", DefaultParameterSetName = LedgerSet)]
[OutputType(typeof(ChainVerification))]
public sealed class TestFlagAuditChainCommand : FlagCmdletBase
{
    private const string LedgerSet = "Ledger";
    private const string PathSet = "Path";

    [Parameter(ParameterSetName = LedgerSet)]
    public ILedger? Ledger { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessFlagRecord()
    {
        var ledger = ParameterSetName == PathSet ? new JsonlLedger(ResolvePath(Path)) : ResolveLedger(Ledger);
        WriteVerbose($"Verifying the hash chain of {ledger.Name}.");
        var verdict = Run((_, ct) => Task.FromResult(ledger.Verify(ct)));
        if (!verdict.Valid)
        {
            WriteWarning(verdict.Message);
        }

        WriteObject(verdict);
    }
}
