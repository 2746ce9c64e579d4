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
        if (ParameterSetName == PathSet && !File.Exists(ResolvePath(Path)))
        {
            // A mistyped path must not come back as "Valid: 0 events": an auditor would read that as a clean ledger.
            throw new Engine.Common.FlagsException("LedgerNotFound", Engine.Common.FlagsErrorKind.ObjectNotFound, $"The ledger file '{ResolvePath(Path)}' does not exist.", ResolvePath(Path));
        }

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
